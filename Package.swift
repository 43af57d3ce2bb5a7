// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "ReproGrid",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "repro-coordinator", targets: ["repro-coordinator"]),
        .executable(name: "repro-worker", targets: ["repro-worker"]),
        .executable(name: "repro", targets: ["repro"]),
        .library(name: "ReproStats", targets: ["ReproStats"]),
        .library(name: "ReproCore", targets: ["ReproCore"]),
        .library(name: "ReproPlots", targets: ["ReproPlots"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // Numerics only: no I/O, no dependencies (see ../shared/docs/statistics.md).
        .target(name: "ReproStats"),
        // SVG plots of the dashboard: numbers in, SVG text out; no I/O, no dependencies (decision 0011).
        .target(name: "ReproPlots"),
        // Domain and wire types shared by coordinator, worker and CLI.
        .target(
            name: "ReproCore",
            dependencies: [
                "ReproStats",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Prometheus exposition for coordinator and worker: the swift-metrics backend and a
        // /metrics-only HTTP server (decision 0012).
        .target(
            name: "ReproMetrics",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ReproCoordinator",
            dependencies: [
                "ReproCore", "ReproStats", "ReproMetrics", "ReproPlots",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources")]
        ),
        // HTTP client of the coordinator's API, shared by the worker and the CLI.
        .target(
            name: "ReproClient",
            dependencies: [
                "ReproCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ReproWorker",
            dependencies: [
                "ReproCore", "ReproClient", "ReproMetrics",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ReproCLI",
            dependencies: [
                "ReproCore", "ReproClient", "ReproStats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "repro-coordinator",
            dependencies: [
                "ReproCoordinator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "repro-worker",
            dependencies: [
                "ReproWorker", "ReproMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "repro",
            dependencies: ["ReproCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Benchmarks of issues 3 and 4 (lease → result cycle, report computation); run by scripts/bench.sh.
        .executableTarget(
            name: "repro-bench",
            dependencies: [
                "ReproCoordinator", "ReproClient", "ReproCore", "ReproStats", "ReproWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Funders' queries and feedback summary benchmark (issue 5); run by scripts/bench-queries.sh.
        .executableTarget(
            name: "repro-bench-queries",
            dependencies: [
                "ReproCoordinator", "ReproStats", "ReproCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Shared by the database-backed test targets: a fresh database per test on the cluster that
        // scripts/test.sh starts.
        .target(
            name: "ReproTestSupport",
            dependencies: [
                "ReproCoordinator",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ReproStatsTests", dependencies: ["ReproStats"],
            // The scipy scripts that computed the reference values: read by people, not built.
            exclude: ["References"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ReproCoreTests", dependencies: ["ReproCore"]),
        .testTarget(name: "ReproPlotsTests", dependencies: ["ReproPlots"]),
        .testTarget(
            name: "ReproCoordinatorTests",
            dependencies: [
                "ReproCoordinator", "ReproCore", "ReproTestSupport", "ReproCLI", "ReproMetrics",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ReproWorkerTests", dependencies: ["ReproWorker"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ReproCore", "ReproClient", "ReproStats", "ReproTestSupport", "ReproCoordinator", "ReproWorker",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                // Fault tests read statuses and headers (Retry-After) that ReproClient does not expose.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            // The hostile bundle is read from the source tree, as a study a researcher submits.
            exclude: ["Fixtures"]
        ),
    ]
)
