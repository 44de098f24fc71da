@testable import AtollClient
import Testing

@Suite struct ConfigurationTests {
    @Test func readsAFullURL() throws {
        let c = try #require(ConnectionConfiguration(url: "redis://alice:s3cret@10.0.0.1:7000/3"))
        #expect(c.host == "10.0.0.1")
        #expect(c.port == 7000)
        #expect(c.username == "alice")
        #expect(c.password == "s3cret")
        #expect(c.database == 3)
    }

    @Test func readsPasswordOnlyAndDefaults() throws {
        let c = try #require(ConnectionConfiguration(url: "redis://:pw@localhost"))
        #expect(c.username == nil)
        #expect(c.password == "pw")
        #expect(c.port == 6379)
        #expect(c.database == 0)
    }

    @Test func refusesOtherSchemesAndBadPorts() {
        #expect(ConnectionConfiguration(url: "http://localhost") == nil)
        #expect(ConnectionConfiguration(url: "redis://localhost:99999") == nil)
        #expect(ConnectionConfiguration(url: "redis://localhost/x") == nil)
    }

    @Test func splitsErrorCodeFromMessage() {
        let e = RedisError(reply: Array("WRONGTYPE Operation against a key".utf8))
        #expect(e.code == "WRONGTYPE")
        #expect(e.message == "Operation against a key")
        #expect(RedisError(reply: Array("BUSY".utf8)) == RedisError(code: "BUSY", message: ""))
    }
}

@Suite struct HashSlotTests {
    @Test func crc16MatchesTheClusterSpecificationsCheckValue() {
        #expect(HashSlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
    }

    @Test func slotsAreRedisClusters() {
        // Values as CLUSTER KEYSLOT gives them.
        #expect(HashSlot.slot(of: "foo") == 12182)
        #expect(HashSlot.slot(of: "bar") == 5061)
        #expect(HashSlot.slot(of: "{user1000}.following") == HashSlot.slot(of: "user1000"))
    }

    @Test func hashTagRules() {
        #expect(HashSlot.sameSlot(["{user1000}.following", "{user1000}.followers"]))
        #expect(!HashSlot.sameSlot(["foo", "bar"]))
        // An empty tag does not count: the whole key is hashed.
        #expect(HashSlot.slot(of: "foo{}{bar}") != HashSlot.slot(of: "bar"))
        #expect(HashSlot.slot(of: "foo{{bar}}zap") == HashSlot.slot(of: "{bar"))
        let shadow = HashSlot.keyInSameSlot(as: "board", suffix: ":tmp")
        #expect(shadow == "{board}:tmp")
        #expect(HashSlot.sameSlot(["board", shadow]))
        #expect(HashSlot.keyInSameSlot(as: "{u}:board", suffix: ":tmp") == "{u}:board:tmp")
    }
}
