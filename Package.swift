// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "gearbox",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gearbox", targets: ["gearbox"]),
        .library(name: "GearmanProtocol", targets: ["GearmanProtocol"]),
        .library(name: "GearmanServer", targets: ["GearmanServer"]),
        .library(name: "Gearman", targets: ["Gearman"]),
        .library(name: "GearmanTLS", targets: ["GearmanTLS"]),
        .library(name: "Imaging", targets: ["Imaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.2.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Layer 1: the wire protocol. Pure: packets, framing, admin text.
        .target(
            name: "GearmanProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // TLS from gearmand-style PEM files, for the server, the libraries and the load generator.
        .target(
            name: "GearmanTLS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Metrics exposed the one way: a swift-prometheus registry and factory, and a `/metrics` route.
        .target(
            name: "GearboxMetrics",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The system's SQLite, for the job server's durable store.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // Layers 2-4 for the job server: queue engine, durable store, NIO handlers, the Service.
        .target(
            name: "GearmanServer",
            dependencies: [
                "GearmanProtocol",
                "GearmanTLS",
                "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The job server's event hooks: background jobs' events POSTed as signed JSON from a bounded outbox.
        .target(
            name: "GearboxHooks",
            dependencies: [
                "GearmanServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The operator's port: the dashboard page, its JSON API and `/metrics`, on Hummingbird.
        .target(
            name: "GearboxDashboard",
            dependencies: [
                "GearmanServer",
                "GearboxMetrics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Layers 2-4 for clients and workers.
        .target(
            name: "Gearman",
            dependencies: [
                "GearmanProtocol",
                "GearmanTLS",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What a photo file says about where and with what it was taken, and a copy of it without that:
        // JPEG, PNG and WebP containers rewritten with their pixels untouched. Pure: bytes in, bytes out.
        .target(name: "PhotoMetadata"),
        // Layer 5: libvips.
        .systemLibrary(
            name: "CVips",
            pkgConfig: "vips",
            providers: [.apt(["libvips-dev"])]
        ),
        .target(name: "CVipsShim", dependencies: ["CVips"]),
        .target(
            name: "Imaging",
            dependencies: [
                "CVips",
                "CVipsShim",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Layer 6: the image functions served over Gearman, and the farm that runs them.
        .target(
            name: "ImageFarm",
            dependencies: [
                "Imaging",
                "Gearman",
                "GearmanServer",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Layer 7: the upload front, a web service that turns one upload into every size on the farm.
        .target(
            name: "UploadFront",
            dependencies: [
                "Imaging",
                "PhotoMetadata",
                "Gearman",
                "GearmanServer",
                "ImageFarm",
                "GearboxMetrics",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Layer 6: the load generator behind `gearbox bench`: its own clients and echo workers on NIO channels,
        // on the protocol layer alone; the server it measures is another process or one its caller starts.
        .target(
            name: "GearmanBench",
            dependencies: [
                "GearmanProtocol",
                "GearmanTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Fuzz targets: the protocol layer and an uploaded photo's metadata driven by arbitrary bytes, and the
        // mutated conversations of the TCP fuzzer (`make fuzz`).
        .target(
            name: "GearmanFuzzing",
            dependencies: [
                "GearmanProtocol",
                "PhotoMetadata",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The engine driven by arbitrary bytes: apart, because the engine still lives in GearmanServer, whose
        // dependencies (PostgreSQL, TLS) the other targets' sanitized build need not compile.
        .target(
            name: "GearmanEngineFuzzing",
            dependencies: [
                "GearmanFuzzing",
                "GearmanProtocol",
                "GearmanServer",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "fuzz-protocol", dependencies: ["GearmanFuzzing"], path: "Fuzz/ProtocolFuzzer"),
        .executableTarget(
            name: "fuzz-engine", dependencies: ["GearmanFuzzing", "GearmanEngineFuzzing"], path: "Fuzz/EngineFuzzer"),
        .executableTarget(name: "fuzz-metadata", dependencies: ["GearmanFuzzing"], path: "Fuzz/MetadataFuzzer"),
        // Mutated conversations against a running job server over TCP (`make fuzz`).
        .executableTarget(
            name: "fuzz-tcp",
            dependencies: [
                "GearmanFuzzing",
                "GearmanBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Fuzz/TCPFuzzer"
        ),
        // The server and the load generator without libvips, for the scaling curve on other machines
        // (bench/scaling.sh).
        .executableTarget(
            name: "scaling-probe",
            dependencies: [
                "GearmanBench",
                "GearmanProtocol",
                "GearmanServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/ScalingProbe"
        ),
        // Layer 6: the command.
        .executableTarget(
            name: "gearbox",
            dependencies: [
                "GearmanProtocol",
                "GearmanTLS",
                "GearboxMetrics",
                "GearboxHooks",
                "GearboxDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "GearmanServer",
                "Gearman",
                "Imaging",
                "ImageFarm",
                "UploadFront",
                "GearmanBench",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "GearmanProtocolTests",
            dependencies: [
                "GearmanProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "GearmanServerTests",
            dependencies: [
                "GearmanServer",
                "GearmanProtocol",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PhotoMetadataTests",
            dependencies: ["PhotoMetadata"]
        ),
        .testTarget(
            name: "ImagingTests",
            dependencies: [
                "Imaging",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Client and worker state machines and channel handlers, without sockets.
        .testTarget(
            name: "GearmanTests",
            dependencies: [
                "Gearman",
                "GearmanProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // The client and worker libraries and commands against real job servers, each started on a free port.
        .testTarget(
            name: "GearmanInteropTests",
            dependencies: [
                "TestSupport",
                "Gearman",
                "GearmanProtocol",
                "GearmanBench",
                "GearmanTLS",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "GearmanBenchTests",
            dependencies: [
                "GearmanProtocol",
                "GearmanBench",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The fuzz targets' regression inputs and a fixed sample of mutations, as plain tests.
        .testTarget(
            name: "GearmanFuzzingTests",
            dependencies: ["GearmanFuzzing", "GearmanEngineFuzzing", "TestSupport"]
        ),
        // Helpers for tests that start real processes: free ports, child processes, raw connections.
        .target(
            name: "TestSupport",
            dependencies: [
                "GearmanProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "ImageFarmTests",
            dependencies: [
                "ImageFarm",
                "GearmanServer",
                "Imaging",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // `gearbox worker` and `gearbox batch` as processes, with gearmand, `gearbox server` and the gearman CLI.
        .testTarget(
            name: "FarmProcessTests",
            dependencies: ["TestSupport", "Imaging"]
        ),
        // Tests that start real processes: gearmand, the gearman CLI, the gearbox binary.
        .testTarget(
            name: "InteropTests",
            dependencies: [
                "TestSupport",
                "GearmanServer",
                "GearmanProtocol",
                "Gearman",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Retries, dead letters, kept results, event hooks and the dashboard against real job servers, a real
        // HTTP receiver and headless Chromium.
        .testTarget(
            name: "OperatorTests",
            dependencies: [
                "GearboxHooks",
                "GearboxDashboard",
                "GearboxMetrics",
                "GearmanServer",
                "GearmanProtocol",
                "Gearman",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The upload front over real HTTP: embedded farm, external gearmand, slow workers, a headless browser.
        .testTarget(
            name: "UploadFrontTests",
            dependencies: [
                "UploadFront",
                "PhotoMetadata",
                "ImageFarm",
                "Imaging",
                "Gearman",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

// Every Swift target: Swift 6 language mode (complete concurrency checking) and existential types spelt `any`.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("ExistentialAny")]
}
