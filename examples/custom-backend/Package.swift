// swift-tools-version: 6.2
import PackageDescription

// A backend that lives outside SomaFractalMemory's repository: a cache kept in files, the `soma`
// command built with it, and the ConformanceKit suite every cache must pass.
let package = Package(
    name: "CustomBackendExample",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In your own package: .package(url: "<where SomaFractalMemory lives>", from: "<version>").
        // Traits: the backends `soma-filecache` is built with. This one needs only the embedded default
        // (SQLite, the ANN index, the in-process backends) and MiniLM; add "Postgres", "Redis", ... to have them.
        .package(name: "SomaFractalMemory", path: "../..", traits: ["MiniLM"])
    ],
    targets: [
        .target(name: "FileCache", dependencies: [.product(name: "SomaCore", package: "SomaFractalMemory")]),
        .executableTarget(
            name: "soma-filecache",
            dependencies: ["FileCache", .product(name: "SomaCommands", package: "SomaFractalMemory")]),
        .testTarget(
            name: "FileCacheTests",
            dependencies: [
                "FileCache",
                .product(name: "SomaCore", package: "SomaFractalMemory"),
                .product(name: "ConformanceKit", package: "SomaFractalMemory"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
