import Foundation
import XCTest

@testable import LightFMKit

/// Single optimiser steps computed by hand, for the SIMD row path and the scalar path, and the
/// schedule read back from the optimiser state.
final class OptimiserTests: XCTestCase {
  func optimiser(_ schedule: LightFM.LearningSchedule) -> Optimiser {
    Optimiser(schedule: schedule, learningRate: 0.1, rho: 0.9, epsilon: 1e-6)
  }

  func testAdagradScalarStepByHand() {
    var theta: Float = 0.5
    var g: Float = 1
    var unused: Float = 0
    optimiser(.adagrad).step(&theta, &g, &unused, gradient: 0.2, alpha: 0)
    // η = 0.1 / √1; θ = 0.5 − 0.1·0.2; G = 1 + 0.04
    XCTAssertEqual(theta, 0.48, accuracy: 1e-7)
    XCTAssertEqual(g, 1.04, accuracy: 1e-7)
    optimiser(.adagrad).step(&theta, &g, &unused, gradient: 0.2, alpha: 0)
    XCTAssertEqual(theta, 0.48 - 0.1 / Float(1.04).squareRoot() * 0.2, accuracy: 1e-7)
  }

  func testAdadeltaScalarStepByHand() {
    var theta: Float = 0.5
    var a: Float = 0
    var dd: Float = 0
    optimiser(.adadelta).step(&theta, &a, &dd, gradient: 0.2, alpha: 0)
    // A = 0.1·0.04; η = √(0 + ε)/√(A + ε); Δ = η·0.2; D = 0.1·Δ²
    let aa: Float = 0.004
    let eta = Float(1e-6).squareRoot() / (aa + 1e-6).squareRoot()
    XCTAssertEqual(a, aa, accuracy: 1e-9)
    XCTAssertEqual(theta, 0.5 - eta * 0.2, accuracy: 1e-7)
    XCTAssertEqual(dd, 0.1 * (eta * 0.2) * (eta * 0.2), accuracy: 1e-12)
  }

  /// The lazy L2 half of a step: the updated value grows by (1 + η·α), and the step size is
  /// returned for the side's scale.
  func testL2GrowsTheUpdatedValueByTheStepsRate() {
    var theta: Float = 0.5
    var g: Float = 1
    var unused: Float = 0
    let eta = optimiser(.adagrad).step(&theta, &g, &unused, gradient: 0.2, alpha: 0.5)
    // (θ − η·g)·(1 + η·α) = (0.5 − 0.02)·1.05
    XCTAssertEqual(eta, 0.1, accuracy: 1e-7)
    XCTAssertEqual(theta, 0.504, accuracy: 1e-7)
  }

  /// The side's scale grows by (1 + α·η̄) per example, and dividing it out shrinks every value
  /// of the side; past `LazyL2.maxScale` the division happens at once.
  func testLazyL2ScaleAdvancesAndDividesOut() {
    let d = 3
    let users = ParameterSideBuffers(
      SideParameters(
        featureCount: 2, embeddings: [1, 2, 3, 4, 5, 6], biases: [1, 2],
        embeddingGradients: [1, 1, 1, 1, 1, 1], embeddingMomentum: [0, 0, 0, 0, 0, 0],
        biasGradients: [1, 1], biasMomentum: [0, 0]))
    let items = ParameterSideBuffers(
      SideParameters(
        featureCount: 1, embeddings: [2, 2, 2], biases: [4], embeddingGradients: [1, 1, 1],
        embeddingMomentum: [0, 0, 0], biasGradients: [1], biasMomentum: [0]))
    let u = users.view(alpha: 0.5)
    let i = items.view(alpha: 0)
    let lock = NSLock()
    // Eight updates with step sizes summing to 0.8: η̄ = 0.1.
    LazyL2.advance(
      users: u, items: i, userFactor: LazyL2.factor(alpha: 0.5, rateSum: 0.8, updates: 8),
      itemFactor: LazyL2.factor(alpha: 0, rateSum: 0.8, updates: 8), d: d, lock: lock,
      concurrent: false)
    XCTAssertEqual(u.scale.base.pointee, 1.05, accuracy: 1e-9)
    XCTAssertEqual(i.scale.base.pointee, 1, "α = 0 leaves the scale at exactly 1")
    LazyL2.divideOut(u, d: d)
    XCTAssertEqual(u.scale.base.pointee, 1)
    XCTAssertEqual(users[.embeddings].array[5], Float(6 / 1.05), accuracy: 1e-6)
    XCTAssertEqual(users[.biases].array[1], Float(2 / 1.05), accuracy: 1e-6)
    XCTAssertEqual(items[.embeddings].array, [2, 2, 2])
    // α·η̄ = 2e6: the scale passes 1e6 and is divided out in the same call.
    let before = users[.embeddings].array
    LazyL2.advance(
      users: u, items: i, userFactor: LazyL2.factor(alpha: 2e7, rateSum: 0.1, updates: 1),
      itemFactor: 1, d: d, lock: lock, concurrent: true)
    XCTAssertEqual(u.scale.base.pointee, 1)
    for (a, b) in zip(users[.embeddings].array, before) {
      XCTAssertEqual(Double(a), Double(b) / (1 + 2e6), accuracy: 1e-12)
    }
  }

  /// The eight-lane row update equals the scalar update element by element (d = 11: one SIMD
  /// block and a scalar tail).
  func testRowUpdateMatchesScalarSteps() {
    let d = 11
    for schedule in LightFM.LearningSchedule.allCases {
      for alpha: Float in [0, 0.3] {
        let o = optimiser(schedule)
        var theta = (0..<d).map { Float($0) * 0.1 - 0.4 }
        var acc = (0..<d).map { 1 + Float($0) * 0.05 }
        var mom = (0..<d).map { Float($0) * 0.01 }
        let v = (0..<d).map { Float($0 % 4) - 1.5 }
        var expectedTheta = theta
        var expectedAcc = acc
        var expectedMom = mom
        var expectedRates: Float = 0
        for c in 0..<d {
          expectedRates += o.step(
            &expectedTheta[c], &expectedAcc[c], &expectedMom[c], gradient: 0.7 * v[c],
            alpha: alpha)
        }
        theta.withUnsafeMutableBufferPointer { t in
          acc.withUnsafeMutableBufferPointer { a in
            mom.withUnsafeMutableBufferPointer { m in
              v.withUnsafeBufferPointer { vv in
                let rates = o.updateRow(
                  t.baseAddress!, gradients: a.baseAddress!, momentum: m.baseAddress!,
                  direction: vv.baseAddress!, coef: 0.7, alpha: alpha, d: d)
                XCTAssertEqual(rates, expectedRates, accuracy: 1e-5, "\(schedule) Σ η")
              }
            }
          }
        }
        for c in 0..<d {
          XCTAssertEqual(theta[c], expectedTheta[c], accuracy: 1e-6, "\(schedule) θ[\(c)]")
          XCTAssertEqual(acc[c], expectedAcc[c], accuracy: 1e-6, "\(schedule) G[\(c)]")
          XCTAssertEqual(mom[c], expectedMom[c], accuracy: 1e-6, "\(schedule) D[\(c)]")
        }
      }
    }
  }

  func testScheduleOfStateReadsTheOptimiserState() throws {
    var model = LightFM(learningSchedule: .adagrad, randomState: 1)
    let x = try COOMatrix(
      rows: 3, columns: 40, rowIndices: [0, 1, 2], columnIndices: [0, 17, 39], values: [1, 1, 1])
    try model.fit(x, epochs: 2)
    var p = try XCTUnwrap(model.parameters)
    XCTAssertEqual(LightFM.scheduleOfState(p), .adagrad)
    p.items.embeddingGradients[p.items.embeddingGradients.count - 1] = 0.5
    XCTAssertEqual(LightFM.scheduleOfState(p), .adadelta, "a sum below 1 in the tail")
    p = try XCTUnwrap(model.parameters)
    p.users.embeddingMomentum[9] = -1e-30
    XCTAssertEqual(LightFM.scheduleOfState(p), .adadelta, "a non-zero second accumulator")
    p = try XCTUnwrap(model.parameters)
    p.items.biasGradients[3] = .nan
    XCTAssertEqual(LightFM.scheduleOfState(p), .adadelta, "NaN is not Adagrad's state")

    model.learningSchedule = .adadelta
    try model.fit(x, epochs: 1)
    XCTAssertEqual(LightFM.scheduleOfState(try XCTUnwrap(model.parameters)), .adadelta)
  }
}
