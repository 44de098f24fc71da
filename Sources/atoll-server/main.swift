/// `atoll-server [config-file] [--name value ...]`: reads redis.conf-style settings (a file
/// first, then flags, as redis-server does), starts the server, and stops it cleanly on
/// SIGTERM or SIGINT.
import AtollCore
import AtollPersistence
import AtollServer
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

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--version" || arguments.first == "-v" {
    print("Atoll server v=\(atollVersion) (Redis \(redisCompatibleVersion) compatible)")
    exit(0)
}
var configText = ""
if let first = arguments.first, !first.hasPrefix("--") {
    guard let file = fopen(first, "r") else { fail("Fatal error, can't open config file '\(first)'") }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    configText += String(decoding: bytes, as: UTF8.self)
    fclose(file)
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

let server = AtollServer(configuration: configuration)
do {
    try server.start()
} catch let error as PersistenceCommands.SnapshotError {
    printError("\(error.message)\n")
    exit(1)
} catch let error as AOFError {
    printError("\(error.description)\n")
    exit(1)
} catch is OpenFilesLimitError {
    exit(1)  // the log says why
} catch {
    printError("Could not create server TCP listening socket \(configuration.bind.joined(separator: " ")):\(configuration.port): \(error)\n")
    exit(1)
}

let signalHandlers = server.stopOnSignals([SIGTERM, SIGINT])
withExtendedLifetime(signalHandlers) { server.waitUntilStopped() }
exit(0)
