/// A raw pointer that may cross threads.
///
/// This is the one `@unchecked Sendable` wrapper in the package. Training hands the same
/// parameter buffers to every Hogwild worker and lets them race on purpose (Recht et al. 2011:
/// sparse updates rarely collide, and a lost update costs less than a lock); scoring hands each
/// worker a disjoint slice of an output buffer, so no two threads write the same element.
struct SharedMutablePointer<Element>: @unchecked Sendable {
  let base: UnsafeMutablePointer<Element>

  init(_ base: UnsafeMutablePointer<Element>) { self.base = base }

  init?(_ buffer: UnsafeMutableBufferPointer<Element>) {
    guard let base = buffer.baseAddress else { return nil }
    self.base = base
  }
}
