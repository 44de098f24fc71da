/// Where the server reads the wall-clock time (milliseconds since the Unix epoch): key expiry,
/// TTLs, blocking timeouts, idle-client timeouts, LASTSAVE and the LRU clock. Durations (the
/// slow log, script time limits) use the monotonic clock instead and are not affected.
///
/// The server reads `SystemClock` unless given another: tests, and programs that embed Atoll
/// in their own tests, pass a `ManualClock` and move it instead of sleeping.
import Synchronization

public protocol ServerClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func nowMillis() -> Int64
}

/// The system's real-time clock.
public struct SystemClock: ServerClock {
    public init() {}
    public func nowMillis() -> Int64 { currentTimeMillis() }
}

/// A clock that stands still until moved: `advance(byMillis:)` or `set(millis:)`. Safe to
/// move from any thread while the server reads it.
public final class ManualClock: ServerClock {
    private let millis: Atomic<Int64>

    public init(millis: Int64 = 1_700_000_000_000) {
        self.millis = Atomic(millis)
    }

    public func nowMillis() -> Int64 { millis.load(ordering: .acquiring) }

    public func advance(byMillis delta: Int64) {
        millis.wrappingAdd(delta, ordering: .acquiringAndReleasing)
    }

    public func set(millis value: Int64) {
        millis.store(value, ordering: .releasing)
    }
}
