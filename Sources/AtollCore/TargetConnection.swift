/// `TargetConnection`: a TCP client connection whose every step waits at most a given time
/// (MIGRATE's link to its target). MIGRATE runs holding the keyspace lock, as Redis runs it
/// blocking its event loop, so nothing here may wait without a limit: the socket is
/// non-blocking and each wait is a `poll` with a deadline (name resolution too, on a helper
/// thread, when the host is not a numeric address).
///
/// The waits follow Redis's synchronous I/O: connecting succeeds once the socket is writable
/// (a refused connection shows up as the first write's error, as in Redis); a write or a line
/// read times out when no progress was made for the whole timeout.
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class TargetConnection {
    /// How a write or a read ended when it did not succeed: `timedOut` (Redis's ETIMEDOUT,
    /// after which MIGRATE does not retry) or any other error (end of stream included).
    public enum Failure: Error { case timedOut, failed }

    private var fd: Int32
    private var pending: [UInt8] = []
    /// The database the target last selected on this connection, -1 when unknown.
    public var selectedDB: Int64 = -1
    /// Unix seconds of the last use, for the idle cache's expiry.
    public var lastUse: Int64 = 0

    private init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// Closes the socket (once).
    public func close() {
        if fd >= 0 {
            _ = systemClose(fd)
            fd = -1
        }
    }

    // MARK: - Connecting

    /// Connects to `host` (a numeric address or a name) on `port` within `timeoutMillis`, or
    /// nil when the host does not resolve, no address takes the connection attempt, or the
    /// socket does not become writable in time.
    public static func open(host: String, port: UInt16, timeoutMillis: Int64) -> TargetConnection? {
        let deadline = deadlineAfter(timeoutMillis)
        guard let addresses = resolve(host, deadline: deadline) else { return nil }
        for var address in addresses {
            setPort(&address.storage, port)
            let fd = socket(address.family, socketStreamType, 0)
            if fd < 0 { continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let result = withUnsafePointer(to: &address.storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.length) }
            }
            if result != 0 && errno != EINPROGRESS {
                _ = systemClose(fd)
                continue
            }
            // The first address that accepts the attempt is the one used, as in Redis.
            let connection = TargetConnection(fd: fd)
            if result != 0 && !connection.wait(for: Int16(POLLOUT), until: deadline) { return nil }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return connection
        }
        return nil
    }

    // MARK: - Writing and reading

    /// Writes all of `bytes`, in chunks of 64 KiB that each get the whole timeout, as Redis's
    /// MIGRATE writes its buffer.
    public func write(_ bytes: [UInt8], timeoutMillis: Int64) -> Failure? {
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + 65536, bytes.count)
            let deadline = deadlineAfter(timeoutMillis)
            while offset < end {
                let n = bytes.withUnsafeBytes { raw in
                    send(fd, raw.baseAddress! + offset, end - offset, sendFlags)
                }
                if n > 0 {
                    offset += n
                } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    if !wait(for: Int16(POLLOUT), until: deadline) { return .timedOut }
                } else {
                    return .failed
                }
            }
        }
        return nil
    }

    /// Reads one reply line without its CR LF, as Redis's `syncReadLine` into MIGRATE's
    /// 1024-byte buffers: at most 1023 bytes (a longer line's rest is the next line), and an
    /// empty line counts as a failure. The timeout restarts whenever bytes arrive.
    public func readLine(timeoutMillis: Int64) -> Result<[UInt8], Failure> {
        let maxLength = 1023
        var deadline = deadlineAfter(timeoutMillis)
        while true {
            if let newline = pending.prefix(maxLength + 1).firstIndex(of: 10) {
                var line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if line.last == 13 { line.removeLast() }
                return line.isEmpty ? .failure(.failed) : .success(line)
            }
            if pending.count >= maxLength {
                let line = Array(pending.prefix(maxLength))
                pending.removeFirst(maxLength)
                return .success(line)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                pending.append(contentsOf: chunk[..<n])
                deadline = deadlineAfter(timeoutMillis)
            } else if n == 0 {
                return .failure(.failed)
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                if !wait(for: Int16(POLLIN), until: deadline) { return .failure(.timedOut) }
            } else {
                return .failure(.failed)
            }
        }
    }

    /// Polls until the socket is ready for `events` (an error or hang-up counts as ready, so
    /// the next call reports it) or `deadline` passes; false on the deadline.
    private func wait(for events: Int16, until deadline: Int64) -> Bool {
        while true {
            let remaining = deadline - monotonicMillis()
            if remaining <= 0 { return false }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: remaining))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }
        }
    }

    // MARK: - Addresses

    private struct Address {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    /// The addresses of `host`: a numeric one at once, a name on a helper thread waited for
    /// until `deadline` (the resolver has timeouts of its own, longer than MIGRATE's).
    private static func resolve(_ host: String, deadline: Int64) -> [Address]? {
        if let numeric = lookUp(host, numericOnly: true) { return numeric }
        final class Box: @unchecked Sendable { var addresses: [Address]? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        // The lookup may outlive this wait; it then finishes into a box nobody reads.
        DispatchQueue.global().async {
            box.addresses = lookUp(host, numericOnly: false)
            done.signal()
        }
        let remaining = max(0, deadline - monotonicMillis())
        guard done.wait(timeout: .now() + .milliseconds(Int(clamping: remaining))) == .success else { return nil }
        return box.addresses
    }

    /// `getaddrinfo` for stream sockets of any family; nil when it fails or finds nothing.
    private static func lookUp(_ host: String, numericOnly: Bool) -> [Address]? {
        guard !host.utf8.contains(0) else { return nil }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketStreamType
        if numericOnly { hints.ai_flags = AI_NUMERICHOST }
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(first) }
        var found: [Address] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let info = node {
            if let source = info.pointee.ai_addr, Int(info.pointee.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(start: source, count: Int(info.pointee.ai_addrlen)))
                }
                found.append(Address(family: info.pointee.ai_family, storage: storage, length: info.pointee.ai_addrlen))
            }
            node = info.pointee.ai_next
        }
        return found.isEmpty ? nil : found
    }

    private static func setPort(_ storage: inout sockaddr_storage, _ port: UInt16) {
        withUnsafeMutableBytes(of: &storage) { raw in
            // sin_port and sin6_port sit at the same offset, right after the family.
            let offset = MemoryLayout<sockaddr_in>.offset(of: \sockaddr_in.sin_port)!
            raw.storeBytes(of: port.bigEndian, toByteOffset: offset, as: UInt16.self)
        }
    }
}

#if canImport(Glibc) || canImport(Musl)
private let socketStreamType = Int32(SOCK_STREAM.rawValue)
private let sendFlags = Int32(MSG_NOSIGNAL)
#else
private let socketStreamType = SOCK_STREAM
private let sendFlags: Int32 = 0
#endif

private func systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(fd)
    #elseif canImport(Musl)
    return Musl.close(fd)
    #else
    return Darwin.close(fd)
    #endif
}

private func monotonicMillis() -> Int64 { Int64(monotonicMicros() / 1000) }

/// The monotonic time `millis` from now, saturating (a timeout may be any 64-bit integer).
private func deadlineAfter(_ millis: Int64) -> Int64 {
    let (sum, overflow) = monotonicMillis().addingReportingOverflow(millis)
    return overflow ? Int64.max : sum
}
