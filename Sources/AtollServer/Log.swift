/// A small logger in redis-server's line format (`pid:M dd Mon yyyy hh:mm:ss.mmm * text`),
/// to standard output or the configured `logfile`.
import AtollCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class Log: @unchecked Sendable {
    private let file: UnsafeMutablePointer<FILE>?
    private let minimum: Int
    private let lock = pthreadMutex()

    public init(path: String, level: String) {
        file = path.isEmpty ? nil : fopen(path, "a")
        minimum = ["debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4][level] ?? 2
    }

    public func notice(_ text: String) { write(2, "*", text) }
    public func warning(_ text: String) { write(3, "#", text) }
    public func verbose(_ text: String) { write(1, "-", text) }
    public func debug(_ text: String) { write(0, ".", text) }
    /// A line at `level` (0 debug … 3 warning), as the core's log handlers pass them.
    public func write(level: Int, _ text: String) {
        switch level {
        case 0: debug(text)
        case 1: verbose(text)
        case 2: notice(text)
        default: warning(text)
        }
    }

    private func write(_ level: Int, _ mark: String, _ text: String) {
        guard level >= minimum else { return }
        let ms = currentTimeMillis()
        var seconds = time_t(ms / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var stamp = [CChar](repeating: 0, count: 64)
        strftime(&stamp, 64, "%d %b %Y %H:%M:%S", &parts)
        let line = "\(getpid()):M \(String(cString: stamp)).\(String(ms % 1000).leftPaddedZeros(3)) \(mark) \(text)\n"
        pthread_mutex_lock(lock)
        let target = file ?? standardOutput()
        fputs(line, target)
        fflush(target)
        pthread_mutex_unlock(lock)
    }
}

private func standardOutput() -> UnsafeMutablePointer<FILE> {
    fdopenedStandardOutput
}

/// Our own stream on descriptor 1, so no global C stream is shared across threads unguarded.
nonisolated(unsafe) private let fdopenedStandardOutput: UnsafeMutablePointer<FILE> = fdopen(1, "w")

private func pthreadMutex() -> UnsafeMutablePointer<pthread_mutex_t> {
    let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(m, nil)
    return m
}

extension String {
    func leftPaddedZeros(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
