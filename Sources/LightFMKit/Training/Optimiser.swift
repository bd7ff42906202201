/// The per-parameter update rules: Adagrad and Adadelta, each followed by LightFM's lazy L2 step.
///
/// For a parameter θ with gradient g (already multiplied by the feature value x):
///
/// ```
/// Adagrad  (Duchi et al. 2011):  η = lr / √G          θ ← θ − η·g        G ← G + g²
/// Adadelta (Zeiler 2012):        A ← ρA + (1−ρ)g²     η = √(D+ε) / √(A+ε)
///                                Δ = η·g              D ← ρD + (1−ρ)Δ²    θ ← θ − Δ
/// L2 (α > 0), with the same η:   θ ← θ·(1 + η·α)
/// ```
///
/// The L2 line is one half of LightFM's lazy L2 (`L2Scale`): the stored value of every
/// parameter an example updates grows by (1 + η·α), while the side's scale grows by
/// (1 + η̄·α) with η̄ the example's mean step size. Dividing the side by its scale at the end of
/// the epoch then shrinks every parameter, touched or not, by the product of those factors.
/// Each update returns the sum of the step sizes it used, which the kernel averages into η̄.
struct Optimiser: Sendable {
  let schedule: LightFM.LearningSchedule
  let learningRate: Float
  let rho: Float
  let epsilon: Float

  /// Updates one embedding row in place from the representation-level gradient `coef·v` and
  /// returns Σ η over its d components.
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
  ) -> Float {
    var c = 0
    var rates = SIMD8<Float>()
    var tail: Float = 0
    switch schedule {
    case .adagrad:
      let lr = SIMD8<Float>(repeating: learningRate)
      let k = SIMD8<Float>(repeating: coef)
      while c + 8 <= d {
        let g = k * Vector.load(v + c)
        let acc = Vector.load(gradients + c)
        let eta = lr / acc.squareRoot()
        var t = Vector.load(theta + c) - eta * g
        if alpha > 0 { t *= 1 + eta * alpha }
        Vector.store(t, theta + c)
        Vector.store(acc + g * g, gradients + c)
        rates += eta
        c += 8
      }
      while c < d {
        let g = coef * v[c]
        let acc = gradients[c]
        let eta = learningRate / acc.squareRoot()
        var t = theta[c] - eta * g
        if alpha > 0 { t *= 1 + eta * alpha }
        theta[c] = t
        gradients[c] = acc + g * g
        tail += eta
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
        var t = Vector.load(theta + c) - delta
        if alpha > 0 { t *= 1 + eta * alpha }
        Vector.store(t, theta + c)
        Vector.store(a, gradients + c)
        Vector.store(r * dd + r1 * delta * delta, momentum + c)
        rates += eta
        c += 8
      }
      while c < d {
        var t = theta[c]
        tail += step(&t, &gradients[c], &momentum[c], gradient: coef * v[c], alpha: alpha)
        theta[c] = t
        c += 1
      }
    }
    return rates.sum() + tail
  }

  /// Updates one scalar parameter (a bias) with gradient `g` and returns the step size η.
  ///
  /// - Complexity: O(1).
  @inline(__always)
  @discardableResult
  func step(
    _ theta: inout Float, _ accumulator: inout Float, _ momentum: inout Float,
    gradient g: Float, alpha: Float
  ) -> Float {
    let eta: Float
    switch schedule {
    case .adagrad:
      eta = learningRate / accumulator.squareRoot()
      theta -= eta * g
      accumulator += g * g
    case .adadelta:
      accumulator = rho * accumulator + (1 - rho) * g * g
      eta = (momentum + epsilon).squareRoot() / (accumulator + epsilon).squareRoot()
      let delta = eta * g
      momentum = rho * momentum + (1 - rho) * delta * delta
      theta -= delta
    }
    if alpha > 0 { theta *= 1 + eta * alpha }
    return eta
  }
}
