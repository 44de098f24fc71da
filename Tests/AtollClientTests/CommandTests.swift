/// Every typed command method, over RESP3 and over RESP2 (the typed results must not differ).
import AtollClient
import Foundation
import Testing

private let protocols: [ConnectionConfiguration.ProtocolPreference] = [.resp3, .resp2]

@Suite(.timeLimit(.minutes(1))) struct CommandTests {
    @Test(arguments: protocols) func strings(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let k = uniqueKey(), n = uniqueKey(), f = uniqueKey()
            #expect(try await c.get(k) == nil)
            #expect(try await c.set(k, "v1"))
            #expect(try await c.getBytes(k) == Array("v1".utf8))
            #expect(try await !c.set(k, "v2", condition: .ifMissing))
            #expect(try await c.set(k, "v2", condition: .ifExists, expiration: .after(.seconds(100))))
            let ttl = try #require(try await c.ttl(k))
            #expect(ttl > .seconds(90) && ttl <= .seconds(100))
            #expect(try await c.set(k, "v3", expiration: .keepTTL))
            #expect(try await c.ttl(k) != nil)
            #expect(try await c.getSet(k, "v4", expiration: .after(.seconds(50))) == "v3")
            #expect(try await c.ttl(k)! <= .seconds(50))
            #expect(try await c.append(k, "x") == 3)
            #expect(try await c.strlen(k) == 3)
            #expect(try await c.getDel(k) == "v4x")
            #expect(try await c.exists(k) == 0)
            #expect(try await c.incr(n) == 1)
            #expect(try await c.incr(n, by: 10) == 11)
            #expect(try await c.decr(n, by: 3) == 8)
            #expect(try await c.incr(f, byFloat: 1.5) == 1.5)
            try await c.mset([(k, "a"), (n, 5)])
            #expect(try await c.mget([k, n, uniqueKey()]) == ["a", "5", nil])
        }
    }

    @Test(arguments: protocols) func keys(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let a = uniqueKey(), b = uniqueKey(), d = uniqueKey()
            try await c.set(a, "1")
            #expect(try await c.exists(a, b) == 1)
            #expect(try await c.ttl(a) == nil)
            #expect(try await c.expire(a, after: .seconds(30)))
            #expect(try await !c.expire(b, after: .seconds(30)))
            #expect(try await c.persist(a))
            #expect(try await c.type(a) == "string")
            #expect(try await c.type(b) == "none")
            try await c.rename(a, to: b)
            #expect(try await c.get(b) == "1")
            try await c.set(a, "2")
            #expect(try await !c.renameIfMissing(a, to: b))
            #expect(try await c.copy(a, to: d))
            #expect(try await !c.copy(a, to: b))
            #expect(try await c.copy(a, to: b, replace: true))
            #expect(try await c.get(b) == "2")
            #expect(try await c.unlink(d) == 1)
            #expect(try await c.del(a, b, d) == 2)
        }
    }

    @Test(arguments: protocols) func hashes(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let h = uniqueKey()
            #expect(try await c.hset(h, [("a", "1"), ("b", 2)]) == 2)
            #expect(try await c.hset(h, field: "a", value: "one") == 0)
            #expect(try await c.hget(h, field: "a") == "one")
            #expect(try await c.hmget(h, fields: ["a", "zz", "b"]) == ["one", nil, "2"])
            #expect(try await c.hgetall(h) == ["a": "one", "b": "2"])
            #expect(try await c.hincr(h, field: "b", by: 5) == 7)
            #expect(try await c.hexists(h, field: "b"))
            #expect(try await c.hlen(h) == 2)
            #expect(try await c.hdel(h, fields: "a", "zz") == 1)
            #expect(try await c.hgetall(uniqueKey()) == [:])
        }
    }

    @Test(arguments: protocols) func lists(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let l = uniqueKey(), m = uniqueKey()
            #expect(try await c.rpush(l, ["b", "c"]) == 2)
            #expect(try await c.lpush(l, ["a"]) == 3)
            #expect(try await c.lrange(l, 0, -1) == ["a", "b", "c"])
            #expect(try await c.llen(l) == 3)
            #expect(try await c.lmove(from: l, to: m, .right, .left) == "c")
            #expect(try await c.lmove(from: uniqueKey(), to: m, .right, .left) == nil)
            #expect(try await c.lpop(l) == "a")
            #expect(try await c.rpop(l) == "b")
            #expect(try await c.rpop(l) == nil)
            try await c.rpush(m, ["x", "c"])
            #expect(try await c.lrem(m, count: 0, "c") == 2)
            let moved = try await c.withDedicatedConnection { connection in
                try await connection.blmove(from: m, to: l, .left, .right, timeout: .milliseconds(100))
            }
            #expect(moved == "x")
            let none = try await c.withDedicatedConnection { connection in
                try await connection.blmove(from: m, to: l, .left, .right, timeout: .milliseconds(50))
            }
            #expect(none == nil)
        }
    }

    @Test(arguments: protocols) func sets(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let s = uniqueKey()
            #expect(try await c.sadd(s, ["a", "b", "a", 3]) == 3)
            #expect(try await c.smembers(s) == ["a", "b", "3"])
            #expect(try await c.sismember(s, "b"))
            #expect(try await !c.sismember(s, "z"))
            #expect(try await c.srem(s, ["a", "z"]) == 1)
            #expect(try await c.scard(s) == 2)
        }
    }

    @Test(arguments: protocols) func sortedSets(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let z = uniqueKey()
            #expect(try await c.zadd(z, [(1, "a"), (2.5, "b"), (3, "c")]) == 3)
            #expect(try await c.zscore(z, "b") == 2.5)
            #expect(try await c.zscore(z, "nope") == nil)
            #expect(try await c.zincr(z, "a", by: 10) == 11)
            #expect(try await c.zrange(z, 0, -1) == ["b", "c", "a"])
            let scored = try await c.zrangeWithScores(z, 0, 1)
            #expect(scored.map(\.member) == ["b", "c"])
            #expect(scored.map(\.score) == [2.5, 3])
            #expect(try await c.zcard(z) == 3)
            #expect(try await c.zremRangeByScore(z, min: 0, max: 3) == 2)
            #expect(try await c.zrem(z, ["a"]) == 1)
            #expect(try await c.zrangeWithScores(z, 0, -1).isEmpty)
        }
    }

    @Test(arguments: protocols) func scripting(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let k = uniqueKey()
            let source = "return redis.call('SET', KEYS[1], ARGV[1])"
            #expect(try await c.eval(source, keys: [k], arguments: ["v"]).string() == "OK")
            let sha = try await c.scriptLoad("return ARGV[1] .. 'x'")
            #expect(sha == Script("return ARGV[1] .. 'x'").sha1)
            // Other tests flush the script cache meanwhile: load, check and run in one MULTI/EXEC.
            let none = String(repeating: "0", count: 40)
            let results = try #require(try await c.transaction([
                redisCommand("SCRIPT", ["LOAD", "return ARGV[1] .. 'x'"]), redisCommand("SCRIPT", ["EXISTS", sha, none]),
                redisCommand("EVALSHA", [sha, 0, "a"]),
            ]))
            #expect(try results[1].get().array().map { try $0.bool() } == [true, false])
            #expect(try results[2].get().string() == "ax")
            #expect(try await c.scriptExists([none]) == [false])
            await #expect(throws: RedisError.self) { try await c.evalsha(none) }
            let library = "#!lua name=\(uniqueKey().replacingOccurrences(of: ":", with: "_").replacingOccurrences(of: "-", with: "_"))\n"
                + "redis.register_function('clienttest_echo_\(preference)', function(keys, args) return args[1] end)"
            let name = try await c.functionLoad(library)
            #expect(try await c.fcall("clienttest_echo_\(preference)", arguments: ["hi"]).string() == "hi")
            try await c.functionDelete(name)
            await #expect(throws: RedisError.self) { try await c.fcall("clienttest_echo_\(preference)") }
        }
    }

    @Test(arguments: protocols) func transactions(_ preference: ConnectionConfiguration.ProtocolPreference) async throws {
        try await withTestClient(protocol: preference) { c async throws in
            let k = uniqueKey()
            let results = try #require(try await c.transaction([["SET", k, "1"].map { Array($0.utf8) },
                                                                ["INCR", k].map { Array($0.utf8) }]))
            #expect(try results[1].get().int() == 2)
            // A command refused while queueing makes EXEC fail: EXECABORT.
            await #expect(throws: RedisError.self) {
                _ = try await c.transaction([["SET", k].map { Array($0.utf8) }])
            }
            do {
                _ = try await c.transaction([["SET", k].map { Array($0.utf8) }])
            } catch let error as RedisError {
                #expect(error.code == "EXECABORT")
            }
            try await c.withDedicatedConnection { connection in
                try await connection.watch([k])
                try await connection.unwatch()
                #expect(try await connection.transaction([["GET", k].map { Array($0.utf8) }]) != nil)
            }
        }
    }
}
