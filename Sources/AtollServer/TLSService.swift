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
        let sockets = port == 0 ? [] : try ListenAddress.sockets(for: addresses, port: port, backlog: backlog).sockets
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
}
