#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// One `bind` entry as redis-server reads it: `*` is every IPv4 address, `::*` every IPv6
/// address, and a leading `-` marks an address that may be missing on this machine (Redis's
/// stock `bind * -::*`): failing to listen there for lack of the address or of its protocol is
/// skipped instead of stopping the start.
struct ListenAddress: Equatable {
    let host: String
    let optional: Bool

    init(_ entry: String) {
        optional = entry.hasPrefix("-")
        let name = optional ? String(entry.dropFirst()) : entry
        switch name {
        case "*": host = "0.0.0.0"
        case "::*": host = "::"
        default: host = name
        }
    }

    /// Whether a failure with `errno` `code` leaves this address out rather than failing.
    func skips(errnoCode code: Int32) -> Bool {
        optional && [EADDRNOTAVAIL, EAFNOSUPPORT, EPROTONOSUPPORT, ENOPROTOOPT, ESOCKTNOSUPPORT, EPFNOSUPPORT].contains(code)
    
    }

    /// A TCP socket bound to `host`:`port` and listening, as Redis binds one (address reuse,
    /// IPv6 sockets for IPv6 only).
    func listeningSocket(port: Int, backlog: Int32) throws -> NIOBSDSocket.Handle {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        #if canImport(Glibc)
        let stream = Int32(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        let fd = socket(address.protocol.rawValue, stream, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        var result = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size)
        switch address {
        case .v4(let v4):
            var raw = v4.address
            result = result == 0 ? withUnsafePointer(to: &raw) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } : result
        case .v6(let v6):
            result = result == 0 ? setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, size) : result
            var raw = v6.address
            result = result == 0 ? withUnsafePointer(to: &raw) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            } : result
        case .unixDomainSocket:
            result = -1
            errno = EAFNOSUPPORT
        }
        if result == 0 { result = listen(fd, backlog) }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw IOError(errnoCode: code, reason: "bind")
        }
        return fd
    }

    /// Listening sockets on `port` for every `bind` entry, Redis's way: optional entries that
    /// this machine cannot listen on are left out; any other failure closes what was opened and
    /// throws. With port 0 the first socket picks a free port and the others take the same one.
    static func sockets(for entries: [String], port: Int, backlog: Int32) throws -> (sockets: [NIOBSDSocket.Handle], port: Int) {
        var sockets: [NIOBSDSocket.Handle] = []
        var chosen = port
        do {
            for entry in entries {
                let address = ListenAddress(entry)
                do {
                    let socket = try address.listeningSocket(port: chosen, backlog: backlog)
                    sockets.append(socket)
                    if chosen == 0 { chosen = try boundPort(socket) }
                } catch let error as IOError where address.skips(errnoCode: error.errnoCode) {
                    continue
                }
            }
        } catch {
            for socket in sockets { close(socket) }
            throw error
        }
        return (sockets, chosen)
    }

    /// The port the kernel gave a socket bound to port 0.
    private static func boundPort(_ socket: NIOBSDSocket.Handle) throws -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        guard result == 0 else { throw IOError(errnoCode: errno, reason: "getsockname") }
        // sockaddr_in and sockaddr_in6 both keep the port, big-endian, right after the family.
        return withUnsafeBytes(of: storage) { Int($0[2]) << 8 | Int($0[3]) }
    }
}
