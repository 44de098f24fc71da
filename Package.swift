// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Each file imports every module whose members it uses.
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Atoll",
    products: [
        .library(name: "AtollServer", targets: ["AtollServer"]),
        .executable(name: "atoll-server", targets: ["atoll-server"]),
        .library(name: "AtollClient", targets: ["AtollClient"]),
        .library(name: "AtollTesting", targets: ["AtollTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Binary-safe byte strings and strict integer parsing, shared by every layer.
        .target(name: "AtollBytes", swiftSettings: swiftSettings),
        // RESP2/RESP3 codec: request parsing and reply encoding. NIOCore only.
        .target(name: "AtollRESP", dependencies: ["AtollBytes", .product(name: "NIOCore", package: "swift-nio")],
                swiftSettings: swiftSettings),
        // The CPU's cache prefetch hint, which Swift has no spelling for.
        .target(name: "CPrefetch", path: "Sources/CPrefetch"),
        // Branch-free binary searches over stream IDs (`__builtin_unpredictable`).
        .target(name: "CSearch", path: "Sources/CSearch"),
        // glibc's allocator controls (malloc.h), which the Glibc module does not import, and the
        // counting malloc wrapper that gives `used_memory`.
        .target(name: "CAllocator", path: "Sources/CAllocator"),
        // Databases, values and expiry. No protocol, no NIO, no file formats.
        .target(name: "AtollKeyspace", dependencies: [
            "AtollBytes", "CPrefetch", "CSearch", .product(name: "DequeModule", package: "swift-collections"),
        ], swiftSettings: swiftSettings),
        // The system's Lua 5.1 with cjson and bit (Debian packages), and our C side of the bridge.
        .systemLibrary(name: "CLua", path: "Sources/CLua", pkgConfig: "lua5.1"),
        .target(name: "CLuaBridge", dependencies: ["CLua"], path: "Sources/CLuaBridge"),
        // The Lua VM for scripts: sandbox, script cache, Lua <-> RESP conversions.
        .target(name: "AtollLua", dependencies: [
            "AtollBytes", "AtollRESP", "CLua", "CLuaBridge", .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        // The core: the server state (`ServerCore`), the dispatcher that runs commands against it,
        // the command table's types, client sessions, the WATCH and blocking registries, the
        // slow log, BUSY replies and the configuration. Knows no family, no file and no Lua: the
        // scripting and persistence layers reach it through the small state it keeps for them
        // (the script monitor, the append-only feed, the background jobs' outcome).
        .target(name: "AtollCore", dependencies: [
            "AtollBytes", "AtollRESP", "AtollKeyspace", "CAllocator", .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        // Redis's RDB encoding: values to bytes and back. Snapshots and the append-only base use
        // it, and so do the payloads of DUMP / RESTORE and FUNCTION DUMP / RESTORE.
        .target(name: "AtollRDB", dependencies: [
            "AtollBytes", "AtollKeyspace", .product(name: "DequeModule", package: "swift-collections"),
        ], swiftSettings: swiftSettings),
        // Scripting beside the Lua engine: the scripting state, EVAL / SCRIPT and FUNCTION / FCALL.
        .target(name: "AtollScripting", dependencies: [
            "AtollBytes", "AtollCore", "AtollKeyspace", "AtollLua", "AtollRDB", "AtollRESP",
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        // Persistence: RDB snapshots, SAVE / BGSAVE, the append-only file (writer, loader, manifest)
        // and the forked background jobs. Snapshots hold the scripts and libraries too, hence scripting.
        .target(name: "AtollPersistence", dependencies: [
            "AtollBytes", "AtollCore", "AtollKeyspace", "AtollLua", "AtollRDB", "AtollRESP", "AtollScripting",
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        // The command families, one file each, and the full command table built from every family
        // (scripting's and persistence's too: INFO, CONFIG SET appendonly and SHUTDOWN reach them).
        .target(name: "AtollCommands", dependencies: [
            "AtollBytes", "AtollCore", "AtollKeyspace", "AtollLua", "AtollPersistence", "AtollRDB", "AtollRESP",
            "AtollScripting", "CAllocator",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "DequeModule", package: "swift-collections"),
        ], swiftSettings: swiftSettings),
        // The NIO server: connections, the keyspace lock, background tasks. Also the embeddable library.
        .target(name: "AtollServer", dependencies: [
            "AtollBytes", "AtollCommands", "AtollCore", "AtollKeyspace", "AtollPersistence", "AtollRESP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: swiftSettings),
        // The executable: configuration file and flags, signals.
        .executableTarget(name: "atoll-server", dependencies: ["AtollCore", "AtollPersistence", "AtollServer", "CAllocator"],
                          swiftSettings: swiftSettings),

        // The client library: connections, pool, typed commands and the application patterns.
        .target(name: "AtollClient", dependencies: [
            "AtollBytes", "AtollRESP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: swiftSettings),
        // An in-process Atoll on a free port for tests (as miniredis is for Go).
        .target(name: "AtollTesting", dependencies: [
            "AtollCore", "AtollServer", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: swiftSettings),

        // GET/SET through the client from many tasks, against redis-benchmark (scripts/bench_client.sh).
        .executableTarget(name: "atoll-client-bench", dependencies: ["AtollClient"], swiftSettings: swiftSettings),

        // What more than one test target needs (a seeded random generator).
        .target(name: "AtollTestSupport", swiftSettings: swiftSettings),

        .testTarget(name: "AtollBytesTests", dependencies: ["AtollBytes"], swiftSettings: swiftSettings),
        .testTarget(name: "AtollRESPTests", dependencies: [
            "AtollBytes", "AtollRESP", "AtollTestSupport", .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "AtollKeyspaceTests", dependencies: ["AtollBytes", "AtollKeyspace", "AtollTestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "AtollLuaTests", dependencies: [
            "AtollBytes", "AtollLua", "AtollRESP", .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "AtollPersistenceTests", dependencies: [
            "AtollBytes", "AtollCore", "AtollKeyspace", "AtollPersistence", "AtollRDB", "AtollTestSupport",
        ], swiftSettings: swiftSettings),
        .testTarget(name: "AtollCommandsTests", dependencies: [
            "AtollBytes", "AtollCommands", "AtollCore", "AtollKeyspace", "AtollRESP",
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "AtollClientTests", dependencies: [
            "AtollClient", "AtollCore", "AtollRESP", "AtollTestSupport", "AtollTesting",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: swiftSettings),
        .testTarget(name: "AtollServerTests", dependencies: [
            "AtollCore", "AtollServer",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: swiftSettings),
    ]
)
