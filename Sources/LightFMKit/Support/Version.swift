extension LightFM {
  /// The version of swift-lightfm this library was built from, in semantic-versioning form.
  ///
  /// The `lightfm` and `lightfm-bench` tools print it for `--version`, and it is the version that
  /// `CHANGELOG.md` describes. It changes only in a release commit, together with the changelog.
  public static let version = "0.1.0"
}
