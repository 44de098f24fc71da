/// A diskless full sync in progress: the forked child writes the snapshot straight into the
/// sockets of `peers`, and marks in a page it shares with the parent each one it finished, so
/// that the parent, once the child exits, knows which replicas have their snapshot and which
/// links must close (a replica that stopped reading, or went away).
///
/// The parent keeps a duplicate of each socket: a replica dropped meanwhile (CLIENT KILL, a
/// timeout) is shut down through it, which ends the connection for the child's copy too, and
/// the child is stopped once no replica of it is left.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class SocketTransfer: @unchecked Sendable {
    /// The replicas served, in the order of the child's marks.
    public let peers: [ReplicaPeer]
    /// One byte per replica, shared with the child (`MAP_SHARED`): 1 once its snapshot is sent.
    private let marks: UnsafeMutablePointer<UInt8>
    private let length: Int
    /// The parent's duplicates of the replicas' sockets (-1: none).
    private var duplicates: [Int32] = []

    /// Nil when the shared page cannot be mapped. `sockets`: each replica's, or -1.
    public init?(peers: [ReplicaPeer], sockets: [Int32]) {
        length = max(peers.count, 1)
        guard let page = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
              page != MAP_FAILED else { return nil }
        marks = page.bindMemory(to: UInt8.self, capacity: length)
        marks.initialize(repeating: 0, count: length)
        self.peers = peers
        duplicates = sockets.map { $0 >= 0 ? dup($0) : -1 }
    }

    deinit {
        munmap(marks, length)
        for fd in duplicates where fd >= 0 { close(fd) }
    }

    /// In the parent: `peer` went away; its connection ends for the child too. Returns true
    /// when no replica of the transfer is left (the child may be stopped).
    public func dropped(_ peer: ReplicaPeer) -> Bool {
        if let index = peers.firstIndex(where: { $0 === peer }), duplicates[index] >= 0 {
            shutdown(duplicates[index], Int32(SHUT_RDWR))
            close(duplicates[index])
            duplicates[index] = -1
        }
        return peers.allSatisfy { !$0.attached }
    }

    /// In the child: the snapshot reached replica `index` whole.
    public func markSent(_ index: Int) { marks[index] = 1 }

    /// In the parent, after the child exited: whether replica `index` got its snapshot.
    public func wasSent(_ index: Int) -> Bool { marks[index] == 1 }

    /// The local and peer addresses of a connected socket, as raw bytes; nil for anything else.
    /// Taken in the parent and compared in the child, so the child writes only into the
    /// connection it was meant for, even if that descriptor was closed and reused meanwhile.
    public static func identity(of fd: Int32) -> [UInt8]? {
        guard fd >= 0, var local = address(fd, getsockname), let peer = address(fd, getpeername) else { return nil }
        local += peer
        return local
    }

    private static func address(_ fd: Int32,
                                _ get: (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32) -> [UInt8]? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { get(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        return withUnsafeBytes(of: &storage) { Array($0.prefix(Int(length))) }
    }
}
