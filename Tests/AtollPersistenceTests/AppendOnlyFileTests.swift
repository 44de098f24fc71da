@testable import AtollCore
@testable import AtollPersistence
import Testing

private func resp(_ args: String...) -> [UInt8] {
    var out = Array("*\(args.count)\r\n".utf8)
    for arg in args { out += Array("$\(arg.utf8.count)\r\n\(arg)\r\n".utf8) }
    return out
}

private func bytes(_ args: String...) -> [[UInt8]] { args.map { Array($0.utf8) } }

@Suite struct AppendOnlyFeedTests {
    @Test func oneEffectIsWrittenAloneAfterItsSelect() {
        var feed = AppendOnlyFeed()
        feed.add(db: 0, bytes("SET", "k", "v"))
        feed.commit()
        feed.add(db: 0, bytes("INCR", "n"))
        feed.commit()
        #expect(feed.take() == resp("SELECT", "0") + resp("SET", "k", "v") + resp("INCR", "n"))
        #expect(feed.bytes.isEmpty)
    }

    @Test func severalEffectsOfOneCommandAreOneTransaction() {
        var feed = AppendOnlyFeed()
        feed.add(db: 2, bytes("INCR", "a"))
        feed.add(db: 3, bytes("INCR", "b"))
        feed.addOutsideUnit(bytes("SCRIPT", "LOAD", "return 1"))
        feed.commit()
        #expect(feed.take() == resp("SCRIPT", "LOAD", "return 1") + resp("MULTI") + resp("SELECT", "2") + resp("INCR", "a")
                + resp("SELECT", "3") + resp("INCR", "b") + resp("EXEC"))
    }

    @Test func aNewFileStartsWithItsOwnSelect() {
        var feed = AppendOnlyFeed()
        feed.add(db: 1, bytes("DEL", "k"))
        feed.commit()
        _ = feed.take()
        feed.reselect()
        feed.add(db: 1, bytes("DEL", "j"))
        feed.commit()
        #expect(feed.take() == resp("SELECT", "1") + resp("DEL", "j"))
    }
}

@Suite struct AOFCommandReaderTests {
    @Test func readsCommandsAndSkipsAnnotations() {
        var reader = AOFCommandReader(bytes: Array("#TS:1700000000\r\n".utf8) + resp("SET", "k", "") + resp("PING"))
        guard case .command(let first) = reader.next() else { Issue.record("no first command"); return }
        #expect(first == bytes("SET", "k", ""))
        guard case .command(let second) = reader.next() else { Issue.record("no second command"); return }
        #expect(second == bytes("PING"))
        guard case .end = reader.next() else { Issue.record("not at the end"); return }
    }

    @Test func everyCutInsideTheLastCommandIsTruncation() {
        let first = resp("SET", "a", "1"), last = resp("HSET", "h", "field", "value")
        for cut in 1..<last.count {
            var reader = AOFCommandReader(bytes: first + last.prefix(cut))
            guard case .command = reader.next() else { Issue.record("first command lost at \(cut)"); return }
            #expect(reader.offset == first.count)
            guard case .truncated = reader.next() else { Issue.record("cut at \(cut) not seen as truncation"); return }
        }
    }

    @Test func damageIsABadFormatWithItsOffset() {
        var data = resp("SET", "a", "1") + resp("SET", "b", "2")
        let second = resp("SET", "a", "1").count
        data[second] = UInt8(ascii: "X")
        var reader = AOFCommandReader(bytes: data)
        _ = reader.next()
        guard case .badFormat(let offset) = reader.next() else { Issue.record("damage not found"); return }
        #expect(offset == second)
        var lengthless = AOFCommandReader(bytes: Array("*1\r\n$x\r\nPING\r\n".utf8))
        guard case .badFormat = lengthless.next() else { Issue.record("bad length accepted"); return }
        var noCRLF = AOFCommandReader(bytes: Array("*1\r\n$4\r\nPINGxx*1\r\n".utf8))
        guard case .badFormat(let at) = noCRLF.next() else { Issue.record("missing CRLF accepted"); return }
        #expect(at == 12)
    }
}

@Suite struct AOFManifestTests {
    @Test func textRoundTripsInRedisOrder() throws {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n"
            + "file appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
        let manifest = try AOFManifest.parse(text)
        #expect(manifest.base?.name == "appendonly.aof.2.base.rdb")
        #expect(manifest.incrs.map(\.seq) == [2, 3])
        #expect(manifest.history.count == 1)
        #expect(manifest.text == text)
        #expect(manifest.lastIncrSeq == 3)
    }

    @Test func malformedManifestsAreRefused() {
        #expect(throws: AOFManifest.FormatError.self) { try AOFManifest.parse("") }
        #expect(throws: AOFManifest.FormatError.self) { try AOFManifest.parse("file a seq 1\n") }
        #expect(throws: AOFManifest.FormatError.self) { try AOFManifest.parse("file a seq x type i\n") }
        #expect(throws: AOFManifest.FormatError.self) {
            try AOFManifest.parse("file a seq 2 type i\nfile b seq 1 type i\n")
        }
        #expect(throws: AOFManifest.FormatError.self) {
            try AOFManifest.parse("file a seq 1 type b\nfile b seq 2 type b\n")
        }
    }
}

@Suite struct AOFSyncGateTests {
    @Test func writesAwaitTheirSync() {
        let gate = AOFSyncGate()
        #expect(!gate.needsSync)
        gate.wrote(10)
        #expect(gate.needsSync)
        gate.syncPending()
        #expect(!gate.needsSync)
        gate.wrote(5)
        gate.use(-1, exitOnFailure: false)
        #expect(!gate.needsSync)
    }
}
