/// The TLS side of the server: the context new TLS connections take (CONFIG SET of a `tls-*`
/// parameter builds a new one; connections already open keep theirs, as in Redis) and the
/// listeners on `tls-port`, beside the plain ones on `port`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AtollCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

final class TLSService: Sendable {
    private struct State {
        var contexts: [TLSSettings.ClientAuthentication: NIOSSLContext] = [:]
        var authClients = TLSSettings.ClientAuthentication.yes
        var port = 0
        var listeners: [any Channel] = []
    }

    private let state = NIOLockedValueBox(State())
    private let log: Log

    init(log: Log) { self.log = log }

    /// The context for a connection accepted now (with the current `tls-auth-clients`).
    var context: NIOSSLContext? { state.withLockedValue { $0.contexts[$0.authClients] } }

    /// Takes `settings`: `tls-auth-clients` at once, and when `rebuild` says that a parameter
    /// Redis sets TLS up again for has changed (`TLSSettings.contextParameterNames`), and TLS
    /// is in use (a TLS port, or TLS replication or cluster), new contexts, kept only if they
    /// could be built. Returns the failure's log line (logged here) or nil.
    func configure(_ settings: TLSSettings, rebuild: Bool) -> String? {
        guard rebuild && settings.enabled else {
            state.withLockedValue { $0.authClients = settings.authClients }
            return nil
        }
        do {
            let contexts = try TLSContextFactory.make(settings)
            state.withLockedValue { state in
                state.contexts = contexts
                state.authClients = settings.authClients
            }
            return nil
        } catch {
            log.warning(error.message)
            return error.message
        }
    }

    /// Listens on `port` on every address in `addresses` with `bootstrap` (whose connections
    /// start with this service's TLS handler), closing the listeners of the previous port; 0
    /// closes them only. The sockets are bound before this returns, so a port in use is known
    /// at once, even on an event loop; they start accepting once registered.
    func openListeners(port: Int, addresses: [String], backlog: Int32, bootstrap: ServerBootstrap) throws {
        let old = state.withLockedValue { $0.port }
        guard port != old else { return }
        var sockets: [NIOBSDSocket.Handle] = []
        do {
            if port != 0 {
                for address in addresses { sockets.append(try Self.listeningSocket(host: address, port: port, backlog: backlog)) }
            }
        } catch {
            for socket in sockets { close(socket) }
            throw error
        }
        let previous = state.withLockedValue { state -> [any Channel] in
            defer { state.listeners = []; state.port = port }
            return state.listeners
        }
        for channel in previous { channel.close(promise: nil) }
        for socket in sockets {
            bootstrap.withBoundSocket(socket).whenSuccess { [state] channel in
                // NIO listens again with its default backlog (128) as it adopts the socket.
                _ = listen(socket, backlog)
                state.withLockedValue { $0.listeners.append(channel) }
            }
        }
    }

    /// Closes the TLS listeners (at shutdown).
    func stopListening() {
        let channels = state.withLockedValue { state -> [any Channel] in
            defer { state.listeners = [] }
            return state.listeners
        }
        for channel in channels { try? channel.close().wait() }
    }

    /// A TCP socket bound to `host`:`port` and listening, as Redis binds one (address reuse,
    /// IPv6 sockets for IPv6 only).
    static func listeningSocket(host: String, port: Int, backlog: Int32) throws -> NIOBSDSocket.Handle {
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
}
