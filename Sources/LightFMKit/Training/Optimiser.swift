/// The per-parameter update rules: Adagrad and Adadelta, each followed by exact L2 shrinkage.
///
/// For a parameter θ with gradient g (already multiplied by the feature value x):
///
/// ```
/// Adagrad  (Duchi et al. 2011):  η = lr / √G          θ ← θ − η·g        G ← G + g²
/// Adadelta (Zeiler 2012):        A ← ρA + (1−ρ)g²     η = √(D+ε) / √(A+ε)
///                                Δ = η·g              D ← ρD + (1−ρ)Δ²    θ ← θ − Δ
/// L2 (α > 0), with the same η:   θ ← θ·max(0, 1 − η·α) − (step above)
/// ```
///
/// The L2 term is the exact gradient of (α/2)·θ² for every parameter the example touches, taken
/// at the value before the step, with the factor clamped at 0 so that a large α·η can shrink a
/// value to zero but never flip or blow it up. LightFM instead rescales lazily through a global
/// per-side scale; this keeps the stored arrays equal to the true values at every moment.
struct Optimiser: Sendable {
  let schedule: LearningSchedule
  let learningRate: Float
  let rho: Float
  let epsilon: Float

  /// Updates one embedding row in place from the representation-level gradient `coef·v`.
  ///
  /// - Parameters:
  ///   - theta: the d parameters of one feature.
  ///   - gradients, momentum: its optimiser state (G, or A and D).
  ///   - v: the d-dimensional representation gradient direction.
  ///   - coef: x·L, the feature value times the loss scale.
  /// - Complexity: O(d), vectorised eight lanes at a time, no allocation.
  @inline(__always)
  func updateRow(
    _ theta: UnsafeMutablePointer<Float>,
    gradients: UnsafeMutablePointer<Float>,
    momentum: UnsafeMutablePointer<Float>,
    direction v: UnsafePointer<Float>,
    coef: Float,
    alpha: Float,
    d: Int
  ) {
    var c = 0
    switch schedule {
    case .adagrad:
      let lr = SIMD8<Float>(repeating: learningRate)
      let k = SIMD8<Float>(repeating: coef)
      while c + 8 <= d {
        let g = k * Vector.load(v + c)
        let acc = Vector.load(gradients + c)
        let eta = lr / acc.squareRoot()
        var t = Vector.load(theta + c)
        if alpha > 0 { t *= shrink(eta, alpha) }
        Vector.store(t - eta * g, theta + c)
        Vector.store(acc + g * g, gradients + c)
        c += 8
      }
      while c < d {
        let g = coef * v[c]
        let acc = gradients[c]
        let eta = learningRate / acc.squareRoot()
        var t = theta[c]
        if alpha > 0 { t *= max(0, 1 - eta * alpha) }
        theta[c] = t - eta * g
        gradients[c] = acc + g * g
        c += 1
      }
    case .adadelta:
      let r = SIMD8<Float>(repeating: rho)
      let r1 = SIMD8<Float>(repeating: 1 - rho)
      let e = SIMD8<Float>(repeating: epsilon)
      let k = SIMD8<Float>(repeating: coef)
      while c + 8 <= d {
        let g = k * Vector.load(v + c)
        let a = r * Vector.load(gradients + c) + r1 * g * g
        let dd = Vector.load(momentum + c)
        let eta = (dd + e).squareRoot() / (a + e).squareRoot()
        let delta = eta * g
        var t = Vector.load(theta + c)
        if alpha > 0 { t *= shrink(eta, alpha) }
        Vector.store(t - delta, theta + c)
        Vector.store(a, gradients + c)
        Vector.store(r * dd + r1 * delta * delta, momentum + c)
        c += 8
      }
      while c < d {
        var t = theta[c]
        step(&t, &gradients[c], &momentum[c], gradient: coef * v[c], alpha: alpha)
        theta[c] = t
        c += 1
      }
    }
  }

  /// Updates one scalar parameter (a bias) with gradient `g`.
  ///
  /// - Complexity: O(1).
  @inline(__always)
  func step(
    _ theta: inout Float, _ accumulator: inout Float, _ momentum: inout Float,
    gradient g: Float, alpha: Float
  ) {
    switch schedule {
    case .adagrad:
      let eta = learningRate / accumulator.squareRoot()
      if alpha > 0 { theta *= max(0, 1 - eta * alpha) }
      theta -= eta * g
      accumulator += g * g
    case .adadelta:
      accumulator = rho * accumulator + (1 - rho) * g * g
      let eta = (momentum + epsilon).squareRoot() / (accumulator + epsilon).squareRoot()
      let delta = eta * g
      momentum = rho * momentum + (1 - rho) * delta * delta
      if alpha > 0 { theta *= max(0, 1 - eta * alpha) }
      theta -= delta
    }
  }

  // MARK: - SIMD helpers

  @inline(__always)
  private func shrink(_ eta: SIMD8<Float>, _ alpha: Float) -> SIMD8<Float> {
    let one = SIMD8<Float>(repeating: 1)
    return pointwiseMax(SIMD8<Float>(), one - eta * alpha)
  }
}
