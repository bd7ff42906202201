/// The dense representations of one side (users or items): one bias and one d-vector per row.
///
/// ```
/// R = F · E        (rows × d)
/// b = F · β        (rows)
/// ```
///
/// With identity features, `embeddings` and `biases` are the model's own arrays: Swift arrays are
/// copy-on-write, so nothing is copied.
struct Representations: Sendable {
  /// The number of rows (users or items).
  let count: Int
  /// d, the width of each row.
  let dimension: Int
  /// `count × dimension`, row-major.
  let embeddings: [Float]
  /// One per row.
  let biases: [Float]

  /// Aggregates feature embeddings into row representations.
  ///
  /// - Parameters:
  ///   - features: a `rows × featureCount` matrix, or `nil` for the identity.
  ///   - embeddings: `featureCount × d` feature embeddings.
  ///   - biases: `featureCount` feature biases.
  ///   - side: which side the matrix describes, for error messages.
  /// - Throws: `LightFMError` when the feature matrix does not have `featureCount` columns or
  ///   holds a non-finite value.
  /// - Complexity: O(nnz(F) · d); O(1) for identity features.
  init(
    features: CSRMatrix?, embeddings: [Float], biases: [Float], dimension d: Int, side: Side
  ) throws {
    let featureCount = biases.count
    precondition(embeddings.count == featureCount * d, "embedding array does not match its biases")
    guard let features, !features.isIdentity || features.shape.rows != featureCount else {
      self.count = featureCount
      self.dimension = d
      self.embeddings = embeddings
      self.biases = biases
      return
    }
    try LightFM.checkFeatureMatrix(features, side: side, features: featureCount)
    let rows = features.shape.rows
    var outEmbeddings = [Float](repeating: 0, count: rows * d)
    var outBiases = [Float](repeating: 0, count: rows)
    outEmbeddings.withUnsafeMutableBufferPointer { out in
      outBiases.withUnsafeMutableBufferPointer { outB in
        embeddings.withUnsafeBufferPointer { e in
          biases.withUnsafeBufferPointer { b in
            features.rowPointers.withUnsafeBufferPointer { ptr in
              features.columnIndices.withUnsafeBufferPointer { col in
                features.values.withUnsafeBufferPointer { val in
                  for r in 0..<rows {
                    outB[r] = Self.accumulate(
                      ptr[r]..<ptr[r + 1], columns: col, values: val, embeddings: e,
                      biases: b, d: d, into: out.baseAddress! + r * d)
                  }
                }
              }
            }
          }
        }
      }
    }
    self.count = rows
    self.dimension = d
    self.embeddings = outEmbeddings
    self.biases = outBiases
  }

  /// Adds Σ_f x_f E_f over the stored entries `entries` of one feature row to `target` and
  /// returns Σ_f x_f β_f.
  ///
  /// - Complexity: O(entries.count · d).
  @inline(__always)
  static func accumulate(
    _ entries: Range<Int>, columns: UnsafeBufferPointer<Int32>,
    values: UnsafeBufferPointer<Float>, embeddings: UnsafeBufferPointer<Float>,
    biases: UnsafeBufferPointer<Float>, d: Int, into target: UnsafeMutablePointer<Float>
  ) -> Float {
    var bias: Float = 0
    for n in entries {
      let f = Int(columns[n])
      let x = values[n]
      bias += x * biases[f]
      SIMDKernels.axpy(x, embeddings.baseAddress! + f * d, target, d)
    }
    return bias
  }

  /// Representations from explicit arrays (tests, similarity).
  init(count: Int, dimension: Int, embeddings: [Float], biases: [Float]) {
    precondition(embeddings.count == count * dimension && biases.count == count)
    self.count = count
    self.dimension = dimension
    self.embeddings = embeddings
    self.biases = biases
  }
}

// MARK: - Public access

extension LightFM {
  func userRepresentationMatrix(_ features: CSRMatrix?) throws -> Representations {
    let p = try fittedParameters()
    return try Representations(
      features: features, embeddings: p.users.embeddings, biases: p.users.biases,
      dimension: p.noComponents, side: .user)
  }

  func itemRepresentationMatrix(_ features: CSRMatrix?) throws -> Representations {
    let p = try fittedParameters()
    return try Representations(
      features: features, embeddings: p.items.embeddings, biases: p.items.biases,
      dimension: p.noComponents, side: .item)
  }

  /// The users' biases and embeddings, aggregated over their features.
  ///
  /// ```
  /// p_u = Σ_f x_uf E^U_f      b_u = Σ_f x_uf β^U_f
  /// ```
  ///
  /// - Parameter features: a `users × userFeatureCount` matrix; `nil` means identity features
  ///   (then the model's own arrays are returned, without a copy). Rows beyond the trained users
  ///   (cold-start users described by their features) are allowed.
  /// - Returns: `biases` (one per row) and `embeddings` (flat row-major, rows × `noComponents`).
  /// - Throws: `LightFMError` when the model is not fitted or the column count is not the
  ///   model's user feature count.
  /// - Complexity: O(nnz(features) · d).
  public func userRepresentations(
    features: CSRMatrix? = nil
  ) throws -> (biases: [Float], embeddings: [Float]) {
    let r = try userRepresentationMatrix(features)
    return (r.biases, r.embeddings)
  }

  /// The items' biases and embeddings, aggregated over their features.
  ///
  /// ```
  /// q_i = Σ_f y_if E^I_f      b_i = Σ_f y_if β^I_f
  /// ```
  ///
  /// - Parameter features: an `items × itemFeatureCount` matrix; `nil` means identity features.
  /// - Returns: `biases` (one per row) and `embeddings` (flat row-major, rows × `noComponents`).
  /// - Throws: `LightFMError` when the model is not fitted or the column count is not the
  ///   model's item feature count.
  /// - Complexity: O(nnz(features) · d).
  public func itemRepresentations(
    features: CSRMatrix? = nil
  ) throws -> (biases: [Float], embeddings: [Float]) {
    let r = try itemRepresentationMatrix(features)
    return (r.biases, r.embeddings)
  }
}
