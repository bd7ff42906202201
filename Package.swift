// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "swift-lightfm",
  products: [
    .library(name: "LightFMKit", targets: ["LightFMKit"]),
    .executable(name: "lightfm", targets: ["LightFMCLI"]),
    .executable(name: "lightfm-bench", targets: ["LightFMBenchmarks"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // `swift package generate-documentation --target LightFMKit` (scripts/docs); build-time only.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS",
      pkgConfig: "openblas",
      providers: [
        .apt(["libopenblas-dev", "liblapacke-dev"]),
      ]
    ),
    .systemLibrary(
      name: "CZlib",
      pkgConfig: "zlib",
      providers: [
        .apt(["zlib1g-dev"]),
      ]
    ),
    // The selection kernels (C, so that they can use AVX-512 or AVX2 chosen at run time).
    .target(name: "CLightFMKernels"),
    .target(
      name: "LightFMKit",
      dependencies: ["COpenBLAS", "CZlib", "CLightFMKernels"]
    ),
    .target(
      name: "_LightFMTestSupport",
      dependencies: ["LightFMKit", "CZlib"]
    ),
    .executableTarget(
      name: "LightFMCLI",
      dependencies: [
        "LightFMKit",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "LightFMBenchmarks",
      dependencies: [
        "LightFMKit",
        "_LightFMTestSupport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Benchmarks/LightFMBenchmarks"
    ),
    .testTarget(
      name: "LightFMKitTests",
      dependencies: ["LightFMKit", "_LightFMTestSupport"]
    ),
  ]
)
