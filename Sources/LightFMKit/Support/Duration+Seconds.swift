extension Duration {
  /// The duration in seconds, as a `Double` (the attoseconds to their 18 digits).
  package var seconds: Double {
    let (s, attoseconds) = components
    return Double(s) + Double(attoseconds) * 1e-18
  }
}
