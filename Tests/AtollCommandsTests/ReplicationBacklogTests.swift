import AtollCore
import Testing

@Suite struct ReplicationBacklogTests {
    @Test func keepsEverythingUntilFull() {
        var backlog = ReplicationBacklog(size: 16, endOffset: 100)
        #expect(backlog.firstByteOffset == 101)
        #expect(backlog.bytes(from: 101) == [])
        backlog.append(Array("abcdef".utf8))
        #expect(backlog.endOffset == 106)
        #expect(backlog.histlen == 6)
        #expect(backlog.firstByteOffset == 101)
        #expect(backlog.bytes(from: 103) == Array("cdef".utf8))
        #expect(backlog.bytes(from: 107) == [])
        #expect(backlog.bytes(from: 108) == nil)
        #expect(backlog.bytes(from: 100) == nil)
    }

    @Test func wrapsAroundAndDropsTheOldest() {
        var backlog = ReplicationBacklog(size: 8, endOffset: 0)
        backlog.append(Array("0123456".utf8))
        backlog.append(Array("789ab".utf8))
        #expect(backlog.histlen == 8)
        #expect(backlog.endOffset == 12)
        #expect(backlog.firstByteOffset == 5)
        #expect(backlog.bytes(from: 5) == Array("456789ab".utf8))
        #expect(backlog.bytes(from: 10) == Array("9ab".utf8))
        #expect(backlog.bytes(from: 4) == nil)
    }

    @Test func aWriteLargerThanTheRingKeepsItsTail() {
        var backlog = ReplicationBacklog(size: 4, endOffset: 0)
        backlog.append(Array("xy".utf8))
        backlog.append(Array("abcdefgh".utf8))
        #expect(backlog.endOffset == 10)
        #expect(backlog.bytes(from: 7) == Array("efgh".utf8))
        backlog.append(Array("ij".utf8))
        #expect(backlog.bytes(from: 9) == Array("ghij".utf8))
    }
}
