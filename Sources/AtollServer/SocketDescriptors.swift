/// Finds a connection's socket descriptor for CLIENT LIST's `fd`. NIO does not expose a
/// channel's descriptor, so the process's open descriptors (/proc/self/fd, Linux) are matched
/// by their local and peer addresses, which identify a TCP connection among the open sockets.
/// One scan indexes every socket, so a CLIENT LIST of many new clients scans once; a found
/// descriptor is checked again before it is trusted (descriptors are reused once closed).
import NIOCore
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum SocketDescriptors {
    /// "local|peer" address pairs of the sockets seen by the last scan, and their descriptors.
    private static let index = NIOLockedValueBox<[String: Int32]>([:])

    /// The descriptor of the socket connecting `local` and `remote`, or -1.
    static func find(local: SocketAddress?, remote: SocketAddress?) -> Int32 {
        guard let local, let remote, let localText = text(local), let remoteText = text(remote) else { return -1 }
        let wanted = localText + "|" + remoteText
        return index.withLockedValue { index in
            if let fd = index[wanted], pair(of: fd) == wanted { return fd }
            index = scan()
            return index[wanted] ?? -1
        }
    }

    /// Every open socket with a peer, by its address pair.
    private static func scan() -> [String: Int32] {
        var found: [String: Int32] = [:]
        #if os(Linux)
        guard let directory = opendir("/proc/self/fd") else { return found }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let fd = Int32(name), let key = pair(of: fd) { found[key] = fd }
        }
        #endif
        return found
    }

    /// "local|peer" for a connected socket, nil for anything else.
    private static func pair(of fd: Int32) -> String? {
        guard let local = address(fd, getsockname), let peer = address(fd, getpeername) else { return nil }
        return local + "|" + peer
    }

    private static func address(_ fd: Int32,
                                _ get: (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { get(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        // sockaddr_in: family, port, address at byte 4; sockaddr_in6: address at byte 8.
        let family = Int32(storage.ss_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        return withUnsafeBytes(of: &storage) { raw -> String? in
            let port = UInt16(raw[2]) << 8 | UInt16(raw[3])
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            let start = raw.baseAddress! + (family == AF_INET ? 4 : 8)
            guard inet_ntop(family, start, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            return String(cString: buffer) + ":" + String(port)
        }
    }

    private static func text(_ address: SocketAddress) -> String? {
        switch address {
        case .v4, .v6:
            guard let ip = address.ipAddress, let port = address.port else { return nil }
            return ip + ":" + String(port)
        case .unixDomainSocket:
            return nil
        }
    }
}
