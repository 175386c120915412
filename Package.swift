// swift-tools-version: 6.0
import PackageDescription

/// A Debian C library brought in through pkg-config, with the apt package that provides it.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
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
    ],
    targets: [
        // Layer 1: one system library target per Debian C library.
        systemLibrary("CCurl", pkgConfig: "libcurl", apt: "libcurl4-openssl-dev"),
        systemLibrary("COpenSSL", pkgConfig: "openssl", apt: "libssl-dev"),
        systemLibrary("CSQLite", pkgConfig: "sqlite3", apt: "libsqlite3-dev"),
        systemLibrary("CMicroHTTPD", pkgConfig: "libmicrohttpd", apt: "libmicrohttpd-dev"),
        systemLibrary("CYAML", pkgConfig: "yaml-0.1", apt: "libyaml-dev"),
        systemLibrary("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),
        systemLibrary("COpenBLAS", pkgConfig: "openblas", apt: "libopenblas-dev"),
        systemLibrary("CPNG", pkgConfig: "libpng", apt: "libpng-dev"),

        // Layer 2: foundations.
        .target(name: "Archives", dependencies: ["CZlib"]),
        .target(name: "Logging"),
        .target(name: "HTTPTypes"),
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD", "HTTPTypes", "Logging"]),
        .target(name: "HTTPClient", dependencies: ["CCurl", "HTTPTypes"]),
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        .target(name: "YAML", dependencies: ["CYAML"]),

        // Layer 3: domain.
        .target(name: "Kubernetes"),

        // Layer 4: components.

        // Layer 5: executables.

        .testTarget(name: "ShimTests", dependencies: ["CCurl", "COpenSSL", "CSQLite", "CMicroHTTPD", "CYAML", "CZlib", "COpenBLAS", "CPNG"]),
        .testTarget(name: "ArchivesTests", dependencies: ["Archives"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTPClient", "HTTPTypes", "Logging"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "HTTPServer", "HTTPTypes", "Logging"]),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .testTarget(name: "KubernetesTests", dependencies: ["Kubernetes", "YAML"]),
    ]
)
