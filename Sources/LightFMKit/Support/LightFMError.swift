/// An error caused by data or files a user supplied: a message that says what was wrong and where.
///
/// Programmer mistakes (a negative `k`, mismatched lengths in an internal call) are `precondition`s
/// instead; everything a user can fix by changing their input arrives here.
public struct LightFMError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The broad class of problem, for code that wants to react to it.
  public enum Kind: String, Sendable {
    /// A value, index or shape in the data is not acceptable.
    case invalidData
    /// A hyper-parameter or option is out of its allowed range.
    case invalidParameter
    /// An id or feature name that was never fitted.
    case unknownID
    /// A file could not be read or parsed.
    case parse
    /// A file could not be read or written at all.
    case io
    /// A model file is truncated, corrupted, or from a newer format version.
    case corruptModel
    /// The model was used before `fit`.
    case notFitted
    /// Training produced non-finite parameters.
    case diverged
  }

  /// The class of problem.
  public let kind: Kind
  /// What was wrong, where, and what was expected.
  public let message: String

  /// An error of `kind` with `message`.
  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  /// The message.
  public var description: String { message }

  // MARK: - Common constructors

  /// An `.invalidData` error.
  package static func invalidData(_ message: String) -> LightFMError { .init(.invalidData, message) }

  /// An `.invalidParameter` error naming the parameter, its value and the allowed range.
  package static func invalidParameter(
    _ name: String, _ value: Any, expected: String
  ) -> LightFMError {
    .init(.invalidParameter, "invalid \(name) \(value): expected \(expected)")
  }

  /// A parse error at a 1-based line of a file.
  package static func parse(file: String, line: Int, _ message: String) -> LightFMError {
    .init(.parse, "\(file):\(line): \(message)")
  }
}
