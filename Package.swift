// swift-tools-version: 6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

// Products several targets import; every target declares each product it imports (a test checks).
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")

// Each optional backend is a trait, all on by default. The embedded default (SQLite, the ANN index,
// the in-process backends and MiniLM) needs none but MiniLM: `--disable-default-traits --traits MiniLM`
// builds `soma` without postgres-nio, hiredis or librdkafka.
let optionalBackends: [Trait] = [
    .trait(name: "Postgres", description: "PostgreSQL storage, pgvector, and migrate-from-original."),
    .trait(name: "Redis", description: "The Redis cache and rate limits (links libhiredis)."),
    .trait(name: "Kafka", description: "The Kafka event bus (links librdkafka)."),
    .trait(name: "Qdrant", description: "The Qdrant vector index."),
    .trait(name: "OpenAIEmbedder", description: "Embeddings from an OpenAI-compatible server."),
    .trait(name: "MiniLM", description: "all-MiniLM-L6-v2 in process (links OpenBLAS)."),
]

let package = Package(
    name: "SomaFractalMemory",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "soma", targets: ["soma"]),
        .library(name: "SomaCore", targets: ["SomaCore"]),
        .library(name: "SomaService", targets: ["SomaService"]),
        // For programs that add backends of their own (examples/custom-backend): the command line
        // and the suites every backend of a capability must pass.
        .library(name: "SomaCommands", targets: ["SomaCommands"]),
        .library(name: "ConformanceKit", targets: ["ConformanceKit"]),
    ],
    // Each optional backend is a trait, all on by default (see `optionalBackends`).
    traits: Set(optionalBackends + [.default(enabledTraits: Set(optionalBackends.map(\.name)))]),
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        .target(
            name: "SomaCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), logging,
            ],
            path: "Sources/Core",
            swiftSettings: strictSettings
        ),
        .target(
            name: "SomaInProcess",
            dependencies: ["SomaCore"],
            path: "Sources/Backends/InProcess",
            swiftSettings: strictSettings
        ),
        .target(
            name: "CHNSW",
            path: "Sources/Backends/ANN/CHNSW",
            // hnswlib is header-only: optimise it even in debug builds, or graph tests crawl.
            cxxSettings: [.define("NDEBUG"), .unsafeFlags(["-O3"])]
        ),
        .target(
            name: "SomaANN",
            dependencies: ["SomaCore", "CHNSW"],
            path: "Sources/Backends/ANN/Index",
            swiftSettings: strictSettings
        ),
        .target(
            name: "SomaSQLite",
            dependencies: [
                "SomaCore", "SomaANN", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"), logging,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Backends/SQLite",
            swiftSettings: strictSettings
        ),
        .target(
            name: "SomaPostgres",
            dependencies: [
                "SomaCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                logging,
            ],
            path: "Sources/Backends/Postgres",
            swiftSettings: strictSettings
        ),
        .target(
            name: "SomaBackendHTTP",
            dependencies: ["SomaCore", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Sources/Backends/HTTP",
            swiftSettings: strictSettings
        ),
        .target(
            name: "SomaQdrant",
            dependencies: ["SomaCore", "SomaBackendHTTP", .product(name: "AsyncHTTPClient", package: "async-http-client"), nioCore, nioHTTP1],
            path: "Sources/Backends/Qdrant",
            swiftSettings: strictSettings
        ),
        .target(
            name: "SomaEmbedders",
            dependencies: ["SomaCore", "SomaBackendHTTP", .product(name: "AsyncHTTPClient", package: "async-http-client"), nioCore, nioHTTP1],
            path: "Sources/Backends/Embedders",
            swiftSettings: strictSettings
        ),
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/Backends/MiniLM/COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "SomaEncoderKernels",
            path: "Sources/Backends/MiniLM/EncoderKernels",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .target(
            name: "SomaMiniLM",
            dependencies: ["SomaCore", "COpenBLAS", "SomaEncoderKernels", .product(name: "Crypto", package: "swift-crypto"), logging],
            path: "Sources/Backends/MiniLM/Embedder",
            // The encoder's loops run per token and column: optimised even in debug builds, or every
            // test that stores a memory waits on unoptimised arithmetic.
            swiftSettings: strictSettings + [.unsafeFlags(["-O"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/Backends/Redis/CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "SomaRedis",
            dependencies: [
                "SomaCore",
                "CHiredis",
                nioCore,
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                logging,
            ],
            path: "Sources/Backends/Redis/Client",
            swiftSettings: strictSettings
        ),
        .systemLibrary(
            name: "CRdKafka",
            path: "Sources/Backends/Kafka/CRdKafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "SomaKafka",
            dependencies: [
                "SomaCore", "CRdKafka",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Sources/Backends/Kafka/Client",
            swiftSettings: strictSettings
        ),
        .target(
            name: "SomaService",
            dependencies: [
                "SomaCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                logging,
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "SystemPackage", package: "swift-system"),
                nioCore,
            ],
            path: "Sources/Service",
            exclude: ["Console/assets"],
            swiftSettings: strictSettings,
            plugins: [.plugin(name: "EmbedConsoleAssets")]
        ),
        .executableTarget(name: "embed-assets", path: "Sources/Tools/EmbedAssets", swiftSettings: strictSettings),
        .plugin(name: "EmbedConsoleAssets", capability: .buildTool(), dependencies: ["embed-assets"], path: "Plugins/EmbedConsoleAssets"),
        .executableTarget(
            name: "soma",
            dependencies: ["SomaCommands"],
            path: "Sources/soma",
            swiftSettings: strictSettings
        ),
        .target(
            name: "SomaCommands",
            dependencies: [
                "SomaService",
                "SomaInProcess",
                "SomaSQLite",
                "SomaANN",
                .target(name: "SomaPostgres", condition: .when(traits: ["Postgres"])),
                .target(name: "SomaRedis", condition: .when(traits: ["Redis"])),
                .target(name: "SomaQdrant", condition: .when(traits: ["Qdrant"])),
                .target(name: "SomaKafka", condition: .when(traits: ["Kafka"])),
                .target(name: "SomaEmbedders", condition: .when(traits: ["OpenAIEmbedder"])),
                .target(name: "SomaMiniLM", condition: .when(traits: ["MiniLM"])),
                "SomaCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                nioCore, logging,
            ],
            path: "Sources/Commands",
            swiftSettings: strictSettings
        ),
        .target(
            name: "ConformanceKit",
            dependencies: [
                "SomaCore", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), nioCore,
            ],
            path: "Tests/ConformanceKit",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaCoreTests",
            dependencies: ["SomaCore", "ConformanceKit", logging],
            path: "Tests/SomaCoreTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaInProcessTests",
            dependencies: ["SomaInProcess", "SomaCore", "ConformanceKit"],
            path: "Tests/SomaInProcessTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaSQLiteTests",
            dependencies: ["SomaSQLite", "SomaANN", "SomaCore", "ConformanceKit", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/SomaSQLiteTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaPostgresTests",
            dependencies: ["SomaPostgres", "SomaCore", "ConformanceKit", .product(name: "PostgresNIO", package: "postgres-nio"), logging],
            path: "Tests/SomaPostgresTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaQdrantTests",
            dependencies: ["SomaQdrant", "SomaBackendHTTP", "SomaCore", "ConformanceKit"],
            path: "Tests/SomaQdrantTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaKafkaTests",
            dependencies: ["SomaKafka", "SomaCore", "ConformanceKit"],
            path: "Tests/SomaKafkaTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaEmbeddersTests",
            dependencies: ["SomaEmbedders", "SomaBackendHTTP", "SomaCore", "ConformanceKit"],
            path: "Tests/SomaEmbeddersTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaMiniLMTests",
            dependencies: ["SomaMiniLM", "SomaEncoderKernels", "SomaCore", "ConformanceKit"],
            path: "Tests/SomaMiniLMTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaRedisTests",
            dependencies: ["SomaRedis", "SomaCore", "ConformanceKit"],
            path: "Tests/SomaRedisTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaStackTests",
            dependencies: [
                "ConformanceKit", "SomaCore", "SomaRedis", "SomaQdrant", "SomaBackendHTTP", "SomaCommands", "SomaService",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), logging, nioCore,
            ],
            path: "Tests/SomaStackTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaTests",
            dependencies: ["SomaCommands", "SomaService", "SomaCore"],
            path: "Tests/SomaTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SomaServiceTests",
            dependencies: [
                "SomaService",
                "SomaInProcess",
                "SomaCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                logging,
            ],
            path: "Tests/SomaServiceTests",
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
