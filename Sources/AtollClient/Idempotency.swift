/// Idempotency keys: an operation runs at most once per request id, however many times the
/// request is retried. The first caller claims the id (SET NX PX, value "processing"), runs
/// the operation and stores its result ("complete:" and the result, same expiry); a later
/// caller with the same id gets the stored result, or `.inProgress` while the first is still
/// running. If the operation throws, the claim is removed (compare-and-delete) so a retry can
/// run it.
///
/// Seed scenario: "idempotency keys" — a payment API retried by a client after a timeout must
/// not charge twice.
import AtollRESP

/// What `runOnce` did.
public enum IdempotentOutcome: Sendable, Equatable {
    /// This call ran the operation; its result.
    case performed(String)
    /// An earlier call ran it; the result it stored.
    case stored(String)
    /// An earlier call claimed the id and has not finished.
    case inProgress
}

private let processing = "processing"
private let completePrefix = "complete:"

extension RedisCommandRunner {
    /// Runs `operation` only if no call with `requestID` ran (or runs) it within `ttl`. The
    /// id's key is `idempotency:<requestID>`.
    public func runOnce(requestID: String, ttl: Duration,
                        _ operation: () async throws -> String) async throws -> IdempotentOutcome {
        let key = "idempotency:" + requestID
        // Two rounds at most: the second only if the key expired between the SET and the GET.
        for _ in 0..<2 {
            if try await set(key, processing, condition: .ifMissing, expiration: .after(ttl)) {
                let result: String
                do {
                    result = try await operation()
                } catch {
                    _ = try? await compareAndDelete(key, expected: processing)
                    throw error
                }
                try await set(key, completePrefix + result, expiration: .after(ttl))
                return .performed(result)
            }
            guard let state = try await get(key) else { continue }
            if state.hasPrefix(completePrefix) { return .stored(String(state.dropFirst(completePrefix.count))) }
            return .inProgress
        }
        return .inProgress
    }
}
