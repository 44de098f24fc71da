// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Atoll",
    products: [
        .library(name: "AtollServer", targets: ["AtollServer"]),
        .executable(name: "atoll-server", targets: ["atoll-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // Binary-safe byte strings and strict integer parsing, shared by every layer.
        .target(name: "AtollBytes", swiftSettings: swiftSettings),
        // RESP2/RESP3 codec: request parsing and reply encoding. NIOCore only.
        .target(name: "AtollRESP", dependencies: ["AtollBytes", .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: swiftSettings),
        // The CPU's cache prefetch hint, which Swift has no spelling for.
        .target(name: "CPrefetch", path: "Sources/CPrefetch"),
        // Databases, values and expiry. No protocol, no NIO.
        .target(name: "AtollKeyspace", dependencies: [
            "AtollBytes", "CPrefetch", .product(name: "DequeModule", package: "swift-collections"),
        ], swiftSettings: swiftSettings),
        // The system's Lua 5.1 with cjson and bit (Debian packages), and our C side of the bridge.
        .systemLibrary(name: "CLua", path: "Sources/CLua", pkgConfig: "lua5.1"),
        .target(name: "CLuaBridge", dependencies: ["CLua"], path: "Sources/CLuaBridge"),
        // The Lua VM for scripts: sandbox, script cache, Lua <-> RESP conversions.
        .target(name: "AtollLua", dependencies: ["AtollBytes", "AtollRESP", "CLua", "CLuaBridge"],
                swiftSettings: swiftSettings),
        // The command table and one file per command family.
        .target(name: "AtollCommands", dependencies: [
            "AtollBytes", "AtollRESP", "AtollKeyspace", "AtollLua", .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "DequeModule", package: "swift-collections"),
        ],
                swiftSettings: swiftSettings),
        // The NIO server: connections, sessions, the keyspace guard. Also the embeddable library.
        .target(name: "AtollServer", dependencies: [
            "AtollCommands",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .executableTarget(name: "atoll-server", dependencies: ["AtollServer"], swiftSettings: swiftSettings),

        .testTarget(name: "AtollBytesTests", dependencies: ["AtollBytes"]),
        .testTarget(name: "AtollRESPTests", dependencies: ["AtollBytes", "AtollRESP"]),
        .testTarget(name: "AtollKeyspaceTests", dependencies: ["AtollBytes", "AtollKeyspace"]),
        .testTarget(name: "AtollLuaTests", dependencies: [
            "AtollBytes", "AtollLua", "AtollRESP", .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "AtollCommandsTests", dependencies: [
            "AtollBytes",
            "AtollCommands",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "AtollServerTests", dependencies: [
            "AtollServer",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)
