// swift-tools-version: 6.0
import PackageDescription

/// A Debian C library brought in through pkg-config (or, for a library that ships no `.pc` file, through its
/// module map's `link`), with the apt package that provides it.
func systemLibrary(_ name: String, pkgConfig: String?, apt: String) -> Target {
    .systemLibrary(
        name: name,
        path: "Sources/Shims/\(name)",
        pkgConfig: pkgConfig,
        providers: [.apt([apt])]
    )
}

let package = Package(
    name: "tierserve",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "job", targets: ["job"]),
        .executable(name: "local-cluster", targets: ["local-cluster"]),
        .executable(name: "tier", targets: ["tier"]),
        .executable(name: "gateway", targets: ["gateway"]),
        .executable(name: "stack", targets: ["stack"]),
        .executable(name: "grader", targets: ["grader"]),
        .executable(name: "submit", targets: ["submit"]),
    ],
    targets: [
        // Layer 1: one system library target per Debian C library.
        systemLibrary("CCurl", pkgConfig: "libcurl", apt: "libcurl4-openssl-dev"),
        systemLibrary("COpenSSL", pkgConfig: "openssl", apt: "libssl-dev"),
        systemLibrary("CSQLite", pkgConfig: "sqlite3", apt: "libsqlite3-dev"),
        systemLibrary("CMicroHTTPD", pkgConfig: "libmicrohttpd", apt: "libmicrohttpd-dev"),
        systemLibrary("CYAML", pkgConfig: "yaml-0.1", apt: "libyaml-dev"),
        systemLibrary("CDeflate", pkgConfig: "libdeflate", apt: "libdeflate-dev"),
        systemLibrary("COpenBLAS", pkgConfig: "openblas", apt: "libopenblas-dev"),
        systemLibrary("CPNG", pkgConfig: "libpng", apt: "libpng-dev"),
        systemLibrary("CHTTPParser", pkgConfig: nil, apt: "libhttp-parser-dev"),
        systemLibrary("CEventPoll", pkgConfig: nil, apt: "libc6-dev"),

        // Layer 2: foundations.
        .target(name: "Archives", dependencies: ["CDeflate"]),
        .target(name: "Logging"),
        .target(name: "Digests", dependencies: ["COpenSSL"]),
        .target(name: "HTTPTypes"),
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD", "HTTPTypes", "Logging"]),
        .target(name: "HTTPClient", dependencies: ["CCurl", "HTTPTypes"]),
        .target(name: "HTTPProxy", dependencies: ["CHTTPParser", "CEventPoll", "HTTPTypes", "Logging"]),
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        .target(name: "YAML", dependencies: ["CYAML"]),
        .target(name: "CommandLineOptions"),

        // Layer 3: domain.
        .target(name: "Inference", dependencies: ["Archives", "Digests", "COpenBLAS", "CPNG"]),
        .target(name: "Kubernetes"),
        .target(name: "EnvoyConfig", dependencies: ["YAML"]),
        .target(name: "KubernetesClient", dependencies: ["HTTPClient", "HTTPTypes", "Kubernetes", "YAML", "Logging"]),
        .target(name: "Audit", dependencies: ["SQLite", "Digests"]),

        // Layer 4: components.
        .target(name: "InferenceJob", dependencies: ["Inference", "Logging"]),
        .target(name: "Gateway", dependencies: ["EnvoyConfig", "HTTPProxy", "HTTPTypes", "Logging"]),
        .target(name: "Stack", dependencies: ["HTTPClient", "Logging"]),
        .target(name: "SubmitChecks", dependencies: ["Audit", "HTTPClient", "HTTPTypes"]),
        .target(
            name: "LocalCluster",
            dependencies: ["HTTPServer", "HTTPTypes", "SQLite", "YAML", "Kubernetes", "Logging", "Digests", "COpenSSL"]),
        .target(
            name: "TierService",
            dependencies: ["Inference", "Kubernetes", "KubernetesClient", "HTTPServer", "HTTPTypes", "YAML", "Logging"]),
        .target(
            name: "Grader",
            dependencies: [
                "Audit", "Digests", "Kubernetes", "KubernetesClient", "HTTPServer", "HTTPTypes", "YAML", "Logging",
            ]),

        // Layer 5: executables.
        .executableTarget(name: "job", dependencies: ["InferenceJob", "Logging"]),
        .executableTarget(name: "local-cluster", dependencies: ["LocalCluster", "Logging"]),
        .executableTarget(name: "stack", dependencies: ["Stack", "CommandLineOptions", "Logging"]),
        .executableTarget(name: "submit", dependencies: ["SubmitChecks", "HTTPClient", "CommandLineOptions"]),
        .executableTarget(
            name: "tier", dependencies: ["TierService", "KubernetesClient", "CommandLineOptions", "Logging"]),
        .executableTarget(
            name: "gateway", dependencies: ["Gateway", "EnvoyConfig", "CommandLineOptions", "Logging"]),
        .executableTarget(
            name: "grader",
            dependencies: ["Grader", "Audit", "KubernetesClient", "CommandLineOptions", "Logging"]),

        .testTarget(
            name: "ShimTests",
            dependencies: [
                "CCurl", "COpenSSL", "CSQLite", "CMicroHTTPD", "CYAML", "CDeflate", "COpenBLAS", "CPNG", "CHTTPParser",
                "CEventPoll",
            ]),
        .testTarget(name: "ArchivesTests", dependencies: ["Archives"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference"]),
        .testTarget(name: "InferenceJobTests", dependencies: ["InferenceJob", "Inference", "Logging", "job"]),
        .target(name: "HTTPTestSupport", dependencies: ["HTTPServer", "Logging"], path: "Tests/HTTPTestSupport"),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: ["HTTPServer", "HTTPClient", "HTTPTypes", "HTTPTestSupport", "Logging"]),
        .testTarget(
            name: "HTTPClientTests",
            dependencies: ["HTTPClient", "HTTPServer", "HTTPTypes", "HTTPTestSupport", "Logging"]),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .testTarget(name: "KubernetesTests", dependencies: ["Kubernetes", "YAML"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "EnvoyConfig", "HTTPProxy", "HTTPServer", "HTTPClient", "HTTPTypes", "Logging"]),
        .testTarget(
            name: "HTTPProxyTests",
            dependencies: ["HTTPProxy", "HTTPServer", "HTTPClient", "HTTPTypes", "Logging"]),
        .testTarget(
            name: "TierServiceTests",
            dependencies: [
                "TierService", "Kubernetes", "KubernetesClient", "HTTPServer", "HTTPTypes", "YAML", "Logging",
            ]),
        .testTarget(
            name: "KubernetesClientTests",
            dependencies: [
                "KubernetesClient", "Kubernetes", "HTTPClient", "HTTPServer", "HTTPTestSupport", "HTTPTypes", "Logging",
            ]),
        .testTarget(
            name: "LocalClusterTests",
            dependencies: [
                "LocalCluster", "Kubernetes", "HTTPClient", "HTTPTypes", "Logging", "SQLite", "local-cluster", "job",
            ]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "SQLite"]),
        .testTarget(
            name: "StackTests",
            dependencies: [
                "Stack", "Kubernetes", "KubernetesClient", "HTTPClient", "Logging", "local-cluster", "tier", "gateway",
                "job", "grader", "submit",
            ]),
        .testTarget(
            name: "GraderTests",
            dependencies: [
                "Grader", "Audit", "SQLite", "Kubernetes", "KubernetesClient", "HTTPServer", "HTTPClient", "HTTPTypes",
                "YAML", "Logging", "grader",
            ]),
    ]
)
