import AtollCommands
import AtollCore
import Testing

/// The ACL model in-process: rules, their normalised description (expected texts from
/// redis-server 7.0.15), the check of commands, keys and channels, and what the dispatcher
/// does with a refusal.
@Suite struct AclTests {
    private func user(_ rules: String...) throws -> AclUser {
        let user = AclUser(name: Array("u".utf8), allChannelsByDefault: false)
        for rule in rules { try user.apply(Array(rule.utf8)) }
        return user
    }

    @Test func descriptionsAreRedisNormalisedForm() throws {
        #expect(try user("+@all", "-config|set", "-hdel", "~k*").describe()
                == "off ~k* resetchannels +@all -config|set -hdel")
        let u = try user("on", "nopass", "+@all", "-@dangerous", "-@admin", "allkeys")
        #expect(u.describe() == "on nopass ~* resetchannels +@all -@dangerous")
        let v = try user("-@all", "+@hash", "-hdel", "+select|0", "~key:*", "%R~r:*", "&ch*", "(+get ~x*)")
        let text = v.describe()
        #expect(text.hasPrefix("off ~key:* %R~r:* resetchannels &ch* -@all +@hash "))
        #expect(Set(text.split(separator: " ").filter { $0 == "-hdel" || $0 == "+select|0" }).count == 2)
        #expect(text.hasSuffix(" (~x* resetchannels -@all +get)"))
        #expect(AclUser.makeDefault(allChannelsByDefault: false).describe() == "on nopass ~* &* +@all")
    }

    @Test func rulesAreRefusedWithRedisReasons() {
        let cases: [(String, AclRuleError)] = [
            ("%~foo", .syntax), ("%RR~x", .syntax), ("+get|", .syntax), ("+config|get|x", .subcommandFirstArg),
            ("-get|x", .unknownName), ("+@nosuch", .unknownName), ("@x", .syntax), ("#abc", .badHash), ("<nope", .noSuchPassword),
        ]
        for (rule, expected) in cases {
            #expect(throws: expected, "\(rule)") { try user(rule) }
        }
        #expect(throws: AclRuleError.keyAfterAllKeys) { try user("allkeys", "~a") }
        #expect(throws: AclRuleError.channelAfterAllChannels) { try user("allchannels", "&a") }
    }

    @Test func passwordsAreHashedAndCheckedWhenOn() throws {
        let u = try user(">p1", ">p2")
        #expect(!u.accepts(Array("p1".utf8)))  // off
        try u.apply(Array("on".utf8))
        #expect(u.accepts(Array("p1".utf8)) && u.accepts(Array("p2".utf8)) && !u.accepts(Array("p3".utf8)))
        #expect(u.passwords.first.map { String(decoding: $0, as: UTF8.self) } == "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a")
        try u.apply(Array("<p1".utf8))
        #expect(!u.accepts(Array("p1".utf8)))
        try u.apply(Array("nopass".utf8))
        #expect(u.accepts(Array("anything".utf8)) && u.passwords.isEmpty)
    }

    @Test func dispatcherRefusesWithNopermAndLogs() throws {
        let h = Harness()
        h.run("ACL", "SETUSER", "u", "on", "nopass", "+@all", "-hdel", "%R~r:*", "~k:*", "&ch")
        h.client.user = try #require(h.core.acl.user(named: Array("u".utf8)))
        #expect(h.run("HDEL", "k:1", "f") == "-NOPERM this user has no permissions to run the 'hdel' command\r\n")
        #expect(h.run("SET", "r:1", "v") == "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n")
        #expect(h.run("GET", "r:1") == "$-1\r\n")
        #expect(h.run("SET", "k:1", "v") == "+OK\r\n")
        #expect(h.run("PUBLISH", "other", "m") == "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n")
        #expect(h.run("PUBLISH", "ch", "m") == ":0\r\n")
        let log = h.core.acl.log.entries
        #expect(log.map(\.reason) == [.channel, .key, .command])
        #expect(log.map { String(decoding: $0.object, as: UTF8.self) } == ["other", "r:1", "hdel"])
    }

    @Test func defaultUserCostsOneFlag() {
        let h = Harness()
        #expect(h.core.acl.defaultUser.unrestricted)
        h.run("ACL", "SETUSER", "default", "-flushall")
        #expect(!h.core.acl.defaultUser.unrestricted)
        h.run("ACL", "SETUSER", "default", "+@all")
        #expect(h.core.acl.defaultUser.unrestricted)
    }
}
