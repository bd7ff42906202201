#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How the optional refinement after a closed-form fold-in samples and learns.
struct FoldInRefinement: Sendable {
  /// WARP (`.warp`, `.warpKOS`) or BPR-style pairs (`.bpr`, `.logistic`).
  var loss: LightFM.Loss
  var learningRate: Float
  var maxSampled: Int
  var userAlpha: Float
  var epochs: Int
  var seed: UInt64

  init(model: LightFM, epochs: Int) {
    loss = model.loss
    learningRate = model.learningRate
    maxSampled = model.maxSampled
    userAlpha = model.userAlpha
    self.epochs = epochs
    seed = model.randomState ?? 0x5EED_F01D
  }
}

extension FoldInSolver {
  /// Refines fold-in embeddings with a few epochs of the model's ranking loss on each new
  /// user's row alone, the items frozen, Adagrad on the user's d components.
  ///
  /// Per positive i of user u (shuffled each epoch), a negative j ∉ items(u) is drawn uniformly
  /// (WARP: until s_uj > s_ui − 1, at most `maxSampled` draws, the user's own items counted
  /// and skipped as in training; otherwise redrawn until it is not the user's, at most
  /// 10·`maxSampled` draws), and
  ///
  /// ```
  /// WARP (Weston et al. 2011):  L = min(10, ln(max(1, ⌊(N − 1)/n⌋)))  on a violation at draw n
  /// BPR (Rendle et al. 2009):   L = 1 − σ(s_ui − s_uj)     (`.logistic` too: no negatives here)
  /// g = L·(q_j − q_i);   p −= lr/√G ⊙ g;   G += g ⊙ g      (Adagrad, Duchi et al. 2011; G₀ = 1)
  /// p −= lr·userAlpha·p                                      (L2)
  /// ```
  ///
  /// Each user has its own generator, seeded from the refinement seed and the user's row, so
  /// the result does not depend on the thread count.
  ///
  /// - Complexity: O(epochs · Σ_u |P_u| · maxSampled · d).
  func refine(
    _ embeddings: inout [Float], interactions: CSRMatrix, refinement: FoldInRefinement,
    threads requested: Int
  ) {
    let d = noComponents
    let users = interactions.shape.rows
    guard users > 0, refinement.epochs > 0, itemCount > 1 else { return }
    let longest = (0..<users).reduce(0) { max($0, interactions.rowCount($1)) }
    let blockSize = 16
    let blocks = (users + blockSize - 1) / blockSize
    embeddings.withUnsafeMutableBufferPointer { buffer in
      let output = SharedMutablePointer(buffer)!
      Parallel.blocks(
        blocks, threads: requested,
        scratch: { ($0.allocate(Int32.self, count: longest), $0.allocate(Float.self, count: d)) }
      ) { block, scratch in
        for u in (block * blockSize)..<min(users, (block + 1) * blockSize) {
          refineUser(
            u, interactions: interactions, refinement: refinement, p: output.base + u * d,
            order: scratch.0, accumulator: scratch.1)
        }
      }
    }
  }

  private func refineUser(
    _ u: Int, interactions: CSRMatrix, refinement r: FoldInRefinement,
    p: UnsafeMutablePointer<Float>, order: UnsafeMutablePointer<Int32>,
    accumulator: UnsafeMutablePointer<Float>
  ) {
    let d = noComponents
    let n = itemCount
    var count = 0
    let row = interactions.row(u)
    for (column, value) in zip(row.columns, row.values) where value > 0 {
      order[count] = column
      count += 1
    }
    guard count > 0 else { return }
    accumulator.initialize(repeating: 1, count: d)
    var rng = TrainingRNG(seed: r.seed ^ (UInt64(u) &* 0x9E37_79B9_7F4A_7C15))
    let warp = r.loss == .warp || r.loss == .warpKOS
    itemEmbeddings.withUnsafeBufferPointer { qBuffer in
      itemBiases.withUnsafeBufferPointer { b in
        let q = qBuffer.baseAddress!
        for _ in 0..<r.epochs {
          rng.shuffle(UnsafeMutableBufferPointer(start: order, count: count))
          for k in 0..<count {
            let i = Int(order[k])
            let positive = b[i] + SIMDKernels.dot(p, q + i * d, d)
            var loss: Float = 0
            var negative = -1
            if warp {
              // As training's WARP: every draw counts, the user's own items included.
              var sampled = 0
              while sampled < r.maxSampled {
                sampled += 1
                let j = rng.below(n)
                if interactions.contains(row: u, column: j) { continue }
                if b[j] + SIMDKernels.dot(p, q + j * d, d) > positive - 1 {
                  negative = j
                  loss = min(10, log(Float(max(1, (n - 1) / sampled))))
                  break
                }
              }
            } else {
              for _ in 0..<(10 * r.maxSampled) {
                let j = rng.below(n)
                if interactions.contains(row: u, column: j) { continue }
                negative = j
                loss = 1 / (1 + exp(positive - b[j] - SIMDKernels.dot(p, q + j * d, d)))
                break
              }
            }
            guard negative >= 0, loss > 0 else { continue }
            let qi = q + i * d
            let qj = q + negative * d
            for c in 0..<d {
              let g = loss * (qj[c] - qi[c])
              p[c] -= r.learningRate / accumulator[c].squareRoot() * g
              accumulator[c] += g * g
            }
            if r.userAlpha > 0 {
              let shrink = 1 - r.learningRate * r.userAlpha
              for c in 0..<d { p[c] *= shrink }
            }
          }
        }
      }
    }
  }
}
