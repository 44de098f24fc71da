/// `atoll-server [config-file] [--name value ...]`: reads redis.conf-style settings (a file
/// first, then flags, as redis-server does), starts the server, and stops it cleanly on
/// SIGTERM or SIGINT.
import AtollCore
import AtollPersistence
import AtollServer
import CAllocator
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func printError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}

func fail(_ message: String) -> Never {
    printError("*** FATAL CONFIG FILE ERROR (Atoll \(atollVersion)) ***\n\(message)\n")
    exit(1)
}

// A fixed mmap threshold (see CAllocator.h): measured, a 1.3 GB subscriber backlog left
// 350-770 MB with the process once freed, growing run after run; fixed, large blocks are
// mapped and given back when freed, as Redis's jemalloc gives them back.
atoll_allocator_fix_mmap_threshold(128 * 1024)

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--version" || arguments.first == "-v" {
    print("Atoll server v=\(atollVersion) (Redis \(redisCompatibleVersion) compatible)")
    exit(0)
}
var configText = ""
var configFile: String?
if let first = arguments.first, !first.hasPrefix("--") {
    // CONFIG REWRITE writes back to it, whatever the working directory becomes.
    configFile = realpath(first, nil).map { path in defer { free(path) }; return String(cString: path) }
    guard let text = readConfigFile(first) else { fail("Fatal error, can't open config file '\(first)'") }
    configText += text
    arguments.removeFirst()
}
// Flags become config lines: `--port 7000 --bind a b` → "port 7000\nbind a b".
var flagLines: [String] = []
for arg in arguments {
    if arg.hasPrefix("--") {
        flagLines.append(String(arg.dropFirst(2)))
    } else if !flagLines.isEmpty {
        flagLines[flagLines.count - 1] += " " + (arg.contains(" ") || arg.isEmpty ? "\"\(arg)\"" : arg)
    } else {
        fail("Invalid argument '\(arg)'")
    }
}
configText += "\n" + flagLines.joined(separator: "\n")

var configuration = ServerConfiguration()
do {
    try configuration.load(configText)
} catch {
    fail("\(error)")
}
configuration.configFile = configFile

let server = AtollServer(configuration: configuration)
do {
    try server.start()
} catch let error as PersistenceCommands.SnapshotError {
    printError("\(error.message)\n")
    exit(1)
} catch let error as AOFError {
    printError("\(error.description)\n")
    exit(1)
} catch let error as AclStartupError {
    printError("\(error.message)\n")
    exit(1)
} catch is OpenFilesLimitError {
    exit(1)  // the log says why
} catch is TLSStartupError {
    exit(1)  // the log says why
} catch {
    printError("Could not create server TCP listening socket \(configuration.bind.joined(separator: " ")):\(configuration.port): \(error)\n")
    exit(1)
}

let signalHandlers = server.stopOnSignals([SIGTERM, SIGINT])
withExtendedLifetime(signalHandlers) { server.waitUntilStopped() }
exit(0)
