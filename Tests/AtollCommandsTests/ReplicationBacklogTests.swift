import AtollCore
import Testing

@Suite struct ReplicationBacklogTests {
    /// What `from` offsets give, nil where the backlog cannot serve them.
    private func served(_ backlog: ReplicationBacklog, _ offsets: [Int64]) -> [String?] {
        offsets.map { backlog.bytes(from: $0).map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func keepsEverythingUntilFull() {
        var backlog = ReplicationBacklog(size: 16, endOffset: 100)
        #expect(served(backlog, [100, 101, 102]) == [nil, "", nil])
        backlog.append(Array("abcdef".utf8))
        #expect([backlog.firstByteOffset, backlog.endOffset, Int64(backlog.histlen)] == [101, 106, 6])
        #expect(served(backlog, [100, 103, 107, 108]) == [nil, "cdef", "", nil])
    }

    @Test func wrapsAroundAndDropsTheOldest() {
        var backlog = ReplicationBacklog(size: 8, endOffset: 0)
        backlog.append(Array("0123456".utf8))
        backlog.append(Array("789ab".utf8))
        #expect([backlog.firstByteOffset, backlog.endOffset, Int64(backlog.histlen)] == [5, 12, 8])
        #expect(served(backlog, [4, 5, 10]) == [nil, "456789ab", "9ab"])
    }

    @Test func aWriteLargerThanTheRingKeepsItsTail() {
        var backlog = ReplicationBacklog(size: 4, endOffset: 0)
        backlog.append(Array("xy".utf8))
        backlog.append(Array("abcdefgh".utf8))
        #expect(served(backlog, [6, 7]) == [nil, "efgh"])
        backlog.append(Array("ij".utf8))
        #expect(served(backlog, [8, 9, 12, 13, 14]) == [nil, "ghij", "j", "", nil])
    }
}
