import AtollKeyspace
import AtollRDB
import Testing

/// The replication fields of a snapshot (`repl-stream-db`, `repl-id`, `repl-offset`) read
/// back as written; a replication ID that is not 40 characters long is not one, as in Redis.
@Suite struct RDBReplicationFieldsTests {
    private func read(streamDB: String, id: String, offset: String) throws -> RDBContents {
        var writer = RDBWriter()
        writer.aux("redis-ver", "7.0.15")
        writer.aux("repl-stream-db", streamDB)
        writer.aux("repl-id", id)
        writer.aux("repl-offset", offset)
        return try RDBReader.read(writer.finish(), limits: EncodingLimits())
    }

    @Test func theFieldsReadBack() throws {
        let id = String(repeating: "ab", count: 20)
        let contents = try read(streamDB: "3", id: id, offset: "1234567890123")
        #expect(contents.replStreamDB == 3)
        #expect(contents.replID == id)
        #expect(contents.replOffset == 1234567890123)
    }

    @Test func aShortIDOrANonNumberIsNoField() throws {
        let contents = try read(streamDB: "x", id: String(repeating: "a", count: 39), offset: "12a")
        #expect(contents.replStreamDB == nil)
        #expect(contents.replID == nil)
        #expect(contents.replOffset == nil)
    }

    @Test func aSnapshotWithoutThemHasNone() throws {
        var writer = RDBWriter()
        writer.aux("redis-ver", "7.0.15")
        let contents = try RDBReader.read(writer.finish(), limits: EncodingLimits())
        #expect(contents.replID == nil && contents.replOffset == nil && contents.replStreamDB == nil)
    }
}
