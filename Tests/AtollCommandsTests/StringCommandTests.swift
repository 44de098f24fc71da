import AtollBytes
import AtollCommands
import AtollCore
import AtollKeyspace
import Testing

@Suite struct SetCommandTests {
    @Test func plainSetAndGet() {
        let h = Harness()
        #expect(h.run("SET", "k", "v") == ok)
        #expect(h.run("GET", "k") == bulk("v"))
        #expect(h.run("GET", "missing") == nullBulk)
        #expect(h.run("set", "K2", "hello world") == ok)   // command names are case-insensitive
        #expect(h.run("GET", "K2") == bulk("hello world"))
        #expect(h.runBytes([Array("SET".utf8), [0, 255], [13, 10, 0]]) == Array(ok.utf8))
        #expect(h.runBytes([Array("GET".utf8), [0, 255]]) == Array("$3\r\n".utf8) + [13, 10, 0, 13, 10])
    }

    @Test func nxAndXx() {
        let h = Harness()
        #expect(h.run("SET", "k", "v") == ok)
        #expect(h.run("SET", "k", "v2", "NX") == nullBulk)
        #expect(h.run("GET", "k") == bulk("v"))
        #expect(h.run("SET", "k", "v3", "XX") == ok)
        #expect(h.run("GET", "k") == bulk("v3"))
        #expect(h.run("SET", "n", "v", "XX") == nullBulk)
        #expect(h.run("GET", "n") == nullBulk)
        #expect(h.run("SET", "n", "v", "nx") == ok)
        #expect(h.run("GET", "n") == bulk("v"))
    }

    @Test func getOption() {
        let h = Harness()
        h.run("SET", "k", "v3")
        #expect(h.run("SET", "k", "new", "GET") == bulk("v3"))
        #expect(h.run("SET", "missing", "x", "GET") == nullBulk)
        #expect(h.run("GET", "missing") == bulk("x"))
        // NX and GET together (allowed since 7.0): the old value comes back and nothing is set.
        #expect(h.run("SET", "k", "z", "NX", "GET") == bulk("new"))
        #expect(h.run("GET", "k") == bulk("new"))
        #expect(h.run("SET", "k2", "z", "NX", "GET") == nullBulk)
        #expect(h.run("GET", "k2") == bulk("z"))
        #expect(h.run("SET", "k3", "z", "XX", "GET") == nullBulk)
        #expect(h.run("GET", "k3") == nullBulk)
        #expect(h.run("SET", "k", "v", "GET", "GET") == bulk("new"))
    }

    @Test func relativeExpiry() {
        let h = Harness()
        #expect(h.run("SET", "k", "v", "EX", "100") == ok)
        #expect((99...100).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("SET", "k", "v", "PX", "100000") == ok)
        #expect((99_000...100_000).contains(h.integer("PTTL", "k") ?? -100))
        #expect(h.run("SET", "k", "v", "ex", "100") == ok)
        #expect((99...100).contains(h.integer("TTL", "k") ?? -100))
        // Repeating the same unit is allowed; the last one wins.
        #expect(h.run("SET", "k", "v", "EX", "10", "EX", "2000") == ok)
        #expect((1999...2000).contains(h.integer("TTL", "k") ?? -100))
        // A plain SET clears the TTL.
        #expect(h.run("SET", "k", "v3") == ok)
        #expect(h.run("TTL", "k") == int(-1))
        #expect(h.db.expiresCount == 0)
    }

    @Test func absoluteExpiry() {
        let h = Harness()
        #expect(h.run("SET", "k", "v", "EXAT", "\(year3000Seconds)") == ok)
        #expect(h.run("EXPIRETIME", "k") == int(year3000Seconds))
        #expect(h.run("PEXPIRETIME", "k") == int(year3000Seconds * 1000))
        #expect(h.run("SET", "k", "v", "PXAT", "\(year3000Seconds * 1000 + 123)") == ok)
        #expect(h.run("PEXPIRETIME", "k") == int(year3000Seconds * 1000 + 123))
        #expect(h.run("EXPIRETIME", "k") == int(year3000Seconds))
        #expect(h.db.expiresCount == 1)
        // An absolute time in the past: the key is stored already expired.
        #expect(h.run("SET", "old", "v", "EXAT", "1") == ok)
        #expect(h.run("EXISTS", "old") == int(0))
    }

    @Test func keepTTL() {
        let h = Harness()
        h.run("SET", "k", "v", "PXAT", "\(year3000Seconds * 1000 + 123)")
        #expect(h.run("SET", "k", "v2", "KEEPTTL") == ok)
        #expect(h.run("PEXPIRETIME", "k") == int(year3000Seconds * 1000 + 123))
        #expect(h.run("GET", "k") == bulk("v2"))
        #expect(h.run("SET", "new", "v", "KEEPTTL") == ok)
        #expect(h.run("TTL", "new") == int(-1))
    }

    @Test func syntaxErrors() {
        let h = Harness()
        h.run("SET", "k", "v")
        for args in [["NX", "XX"], ["XX", "NX"], ["EX", "10", "PX", "10"], ["PX", "10", "EX", "10"], ["EX", "10", "EXAT", "10"],
                     ["EX"], ["PX"], ["KEEPTTL", "EX", "10"], ["EX", "10", "KEEPTTL"], ["FOO"], ["PERSIST"], ["GET", "FOO"]] {
            #expect(h.run(["SET", "k", "v"] + args) == syntaxError, "SET k v \(args)")
        }
        #expect(h.run("GET", "k") == bulk("v"))
    }

    @Test func invalidExpireTimes() {
        let h = Harness()
        #expect(h.run("SET", "k", "v", "EX", "0") == err("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "EX", "-1") == err("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "PX", "0") == err("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "EXAT", "0") == err("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "EX", "9223372036854775807") == err("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "PX", "9223372036854775807") == err("ERR invalid expire time in 'set' command"))
        #expect(h.run("SET", "k", "v", "EX", "abc") == notInteger)
        #expect(h.run("SET", "k", "v", "EX", "1.5") == notInteger)
        #expect(h.run("SETEX", "k", "0", "v") == err("ERR invalid expire time in 'setex' command"))
        #expect(h.run("PSETEX", "k", "-5", "v") == err("ERR invalid expire time in 'psetex' command"))
        #expect(h.run("EXISTS", "k") == int(0))
    }

    @Test func setexPsetexSetnx() {
        let h = Harness()
        #expect(h.run("SETEX", "k", "100", "v") == ok)
        #expect((99...100).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("PSETEX", "k", "100000", "v") == ok)
        #expect((99...100).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("SETNX", "k", "x") == int(0))
        #expect(h.run("SETNX", "new", "x") == int(1))
        #expect(h.run("GET", "new") == bulk("x"))
    }

    @Test func getsetGetdelMgetMset() {
        let h = Harness()
        #expect(h.run("GETSET", "k", "a") == nullBulk)
        #expect(h.run("GETSET", "k", "b") == bulk("a"))
        #expect(h.run("GETDEL", "k") == bulk("b"))
        #expect(h.run("GETDEL", "k") == nullBulk)
        #expect(h.run("MSET", "a", "1", "b", "2") == ok)
        #expect(h.run("MGET", "a", "nope", "b") == array(bulk("1"), nullBulk, bulk("2")))
        #expect(h.run("MSET", "a", "1", "b") == err("ERR wrong number of arguments for 'mset' command"))
        #expect(h.run("MSETNX", "a", "x", "c", "3") == int(0))
        #expect(h.run("EXISTS", "c") == int(0))
        #expect(h.run("MSETNX", "c", "3", "d", "4") == int(1))
        #expect(h.run("MGET", "c", "d") == array(bulk("3"), bulk("4")))
    }
}

@Suite struct GetexCommandTests {
    @Test func options() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("GETEX", "k") == bulk("v"))
        #expect(h.run("TTL", "k") == int(-1))
        #expect(h.run("GETEX", "k", "EX", "100") == bulk("v"))
        #expect((99...100).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("GETEX", "k", "PX", "200000") == bulk("v"))
        #expect((199...200).contains(h.integer("TTL", "k") ?? -100))
        #expect(h.run("GETEX", "k", "PERSIST") == bulk("v"))
        #expect(h.run("TTL", "k") == int(-1))
        #expect(h.db.expiresCount == 0)
        #expect(h.run("GETEX", "k", "EXAT", "\(year3000Seconds)") == bulk("v"))
        #expect(h.run("EXPIRETIME", "k") == int(year3000Seconds))
        #expect(h.run("GETEX", "k", "PXAT", "\(year3000Seconds * 1000 + 123)") == bulk("v"))
        #expect(h.run("PEXPIRETIME", "k") == int(year3000Seconds * 1000 + 123))
        #expect(h.run("GETEX", "k", "EX", "10", "EX", "20") == bulk("v"))
        #expect((19...20).contains(h.integer("TTL", "k") ?? -100))
    }

    @Test func errors() {
        let h = Harness()
        h.run("SET", "k", "v")
        for args in [["EX", "10", "PERSIST"], ["PERSIST", "EX", "10"], ["NX"], ["KEEPTTL"], ["EX"], ["EX", "10", "PX", "20"], ["GET"]] {
            #expect(h.run(["GETEX", "k"] + args) == syntaxError, "GETEX k \(args)")
        }
        #expect(h.run("GETEX", "k", "EX", "0") == err("ERR invalid expire time in 'getex' command"))
        #expect(h.run("GETEX", "k", "EX", "x") == notInteger)
        // A missing key answers null before the expire time is even looked at.
        #expect(h.run("GETEX", "missing", "EX", "0") == nullBulk)
        #expect(h.run("GETEX", "missing") == nullBulk)
        #expect(h.run("TTL", "k") == int(-1))
    }

    @Test func absoluteTimeInThePastDeletes() {
        let h = Harness()
        h.run("SET", "k", "v")
        #expect(h.run("GETEX", "k", "PXAT", "1") == bulk("v"))
        #expect(h.run("EXISTS", "k") == int(0))
        #expect(h.db.count == 0)
    }
}

@Suite struct CounterCommandTests {
    @Test func incrFamily() {
        let h = Harness()
        #expect(h.run("INCR", "c") == int(1))
        #expect(h.run("INCRBY", "c", "5") == int(6))
        #expect(h.run("DECR", "c") == int(5))
        #expect(h.run("DECRBY", "c", "10") == int(-5))
        #expect(h.run("INCRBY", "c", "-3") == int(-8))
        #expect(h.run("GET", "c") == bulk("-8"))
        #expect(h.run("DECR", "new") == int(-1))
    }

    @Test func badIncrements() {
        let h = Harness()
        h.run("SET", "c", "1")
        #expect(h.run("INCRBY", "c", "abc") == notInteger)
        #expect(h.run("INCRBY", "c", "1.5") == notInteger)
        #expect(h.run("INCRBY", "c", "007") == notInteger)
        #expect(h.run("INCRBY", "c", "+1") == notInteger)
        #expect(h.run("DECRBY", "c", "") == notInteger)
        #expect(h.run("GET", "c") == bulk("1"))
    }

    @Test func nonIntegerValues() {
        let h = Harness()
        for value in ["abc", "007", "1.0", "-0", "+5", " 1", "1 ", "", "99999999999999999999"] {
            h.run("SET", "s", value)
            #expect(h.run("INCR", "s") == notInteger, "\(value.debugDescription)")
            #expect(h.run("GET", "s") == bulk(value))
        }
    }

    @Test func overflow() {
        let h = Harness()
        let overflow = err("ERR increment or decrement would overflow")
        h.run("SET", "c", "9223372036854775807")
        #expect(h.run("INCR", "c") == overflow)
        #expect(h.run("INCRBY", "c", "1") == overflow)
        #expect(h.run("GET", "c") == bulk("9223372036854775807"))
        h.run("SET", "c", "-9223372036854775808")
        #expect(h.run("DECR", "c") == overflow)
        #expect(h.run("DECRBY", "c", "1") == overflow)
        #expect(h.run("INCRBY", "c", "-1") == overflow)
        h.run("SET", "c", "5")
        #expect(h.run("DECRBY", "c", "-9223372036854775808") == err("ERR decrement would overflow"))
        #expect(h.run("INCRBY", "c", "-9223372036854775808") == int(-9223372036854775803))
        #expect(h.run("INCRBY", "c", "9223372036854775807") == int(4))
    }

    @Test func incrKeepsTTL() {
        let h = Harness()
        h.run("SET", "t", "10", "EX", "1000")
        #expect(h.run("INCR", "t") == int(11))
        #expect((999...1000).contains(h.integer("TTL", "t") ?? -100))
        #expect(h.run("OBJECT", "ENCODING", "t") == bulk("int"))
    }

    @Test func incrbyfloatFormatting() {
        let h = Harness()
        h.run("SET", "f", "10.5")
        #expect(h.run("INCRBYFLOAT", "f", "0.1") == bulk("10.6"))
        #expect(h.run("INCRBYFLOAT", "f", "-5") == bulk("5.6"))
        #expect(h.run("INCRBYFLOAT", "f", "-5.6") == bulk("0"))
        #expect(h.run("GET", "f") == bulk("0"))
        h.run("SET", "f", "5.0e3")
        #expect(h.run("INCRBYFLOAT", "f", "0") == bulk("5000"))
        #expect(h.run("INCRBYFLOAT", "f", "2.0e2") == bulk("5200"))
        #expect(h.run("INCRBYFLOAT", "f", "0x10") == bulk("5216"))   // strtold reads hex
        #expect(h.run("INCRBYFLOAT", "nf", "3") == bulk("3"))
        #expect(h.run("INCRBYFLOAT", "nf", "1.5e1") == bulk("18"))
        h.run("SET", "z", "0")
        #expect(h.run("INCRBYFLOAT", "z", "-0") == bulk("0"))
        #expect(h.run("INCRBYFLOAT", "z", "0.1") == bulk("0.1"))
        #expect(h.run("INCRBYFLOAT", "z", "0.2") == bulk("0.3"))
        h.run("SET", "i", "3")
        #expect(h.run("INCRBYFLOAT", "i", "1") == bulk("4"))
        #expect(h.run("INCRBYFLOAT", "i", "1.25") == bulk("5.25"))
        #expect(h.run("INCRBYFLOAT", "e", "1e-20") == bulk("0"))
        #expect(h.run("INCRBYFLOAT", "g", "123456789.123456789") == bulk("123456789.12345678899873747"))
    }

    @Test func incrbyfloatHugeValuesUseFixedNotation() {
        let h = Harness()
        let expected = "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"
        #expect(h.run("INCRBYFLOAT", "big", "1e308") == bulk(expected))
    }

    @Test func incrbyfloatErrors() {
        let h = Harness()
        h.run("SET", "f", "1")
        #expect(h.run("INCRBYFLOAT", "f", "abc") == notFloat)
        #expect(h.run("INCRBYFLOAT", "f", "nan") == notFloat)
        #expect(h.run("INCRBYFLOAT", "f", " 1") == notFloat)
        #expect(h.run("INCRBYFLOAT", "f", "1e") == notFloat)
        #expect(h.run("INCRBYFLOAT", "f", "") == notFloat)
        #expect(h.run("INCRBYFLOAT", "f", "inf") == err("ERR increment would produce NaN or Infinity"))
        #expect(h.run("INCRBYFLOAT", "f", "-inf") == err("ERR increment would produce NaN or Infinity"))
        h.run("SET", "s", "abc")
        #expect(h.run("INCRBYFLOAT", "s", "1") == notFloat)
        #expect(h.run("GET", "f") == bulk("1"))
    }

    @Test func incrbyfloatKeepsTTL() {
        let h = Harness()
        h.run("SET", "tf", "1", "EX", "1000")
        #expect(h.run("INCRBYFLOAT", "tf", "1") == bulk("2"))
        #expect((999...1000).contains(h.integer("TTL", "tf") ?? -100))
    }
}

@Suite struct RangeCommandTests {
    @Test func append() {
        let h = Harness()
        #expect(h.run("APPEND", "a", "Hello") == int(5))
        #expect(h.run("APPEND", "a", " World") == int(11))
        #expect(h.run("GET", "a") == bulk("Hello World"))
        #expect(h.run("APPEND", "a", "") == int(11))
        #expect(h.run("STRLEN", "a") == int(11))
        #expect(h.run("STRLEN", "missing") == int(0))
        #expect(h.run("OBJECT", "ENCODING", "a") == bulk("raw"))
    }

    @Test func appendToIntegerValue() {
        let h = Harness()
        #expect(h.run("INCR", "n") == int(1))
        #expect(h.run("APPEND", "n", "23") == int(3))
        #expect(h.run("GET", "n") == bulk("123"))
        #expect(h.run("STRLEN", "n") == int(3))
        h.run("SET", "m", "123")
        #expect(h.run("OBJECT", "ENCODING", "m") == bulk("int"))
        #expect(h.run("APPEND", "m", "4") == int(4))
        #expect(h.run("OBJECT", "ENCODING", "m") == bulk("raw"))
        #expect(h.run("INCR", "m") == int(1235))
    }

    @Test func appendKeepsTTL() {
        let h = Harness()
        h.run("SET", "t", "x", "EX", "1000")
        #expect(h.run("APPEND", "t", "y") == int(2))
        #expect((999...1000).contains(h.integer("TTL", "t") ?? -100))
    }

    @Test func getrange() {
        let h = Harness()
        h.run("SET", "s", "This is a string")
        #expect(h.run("GETRANGE", "s", "0", "3") == bulk("This"))
        #expect(h.run("GETRANGE", "s", "-3", "-1") == bulk("ing"))
        #expect(h.run("GETRANGE", "s", "0", "-1") == bulk("This is a string"))
        #expect(h.run("GETRANGE", "s", "10", "100") == bulk("string"))
        #expect(h.run("GETRANGE", "s", "-1", "-5") == bulk(""))
        #expect(h.run("GETRANGE", "s", "5", "3") == bulk(""))
        #expect(h.run("GETRANGE", "s", "-100", "-50") == bulk("T"))   // both clamp to 0
        #expect(h.run("GETRANGE", "s", "-100", "2") == bulk("Thi"))
        #expect(h.run("GETRANGE", "s", "100", "200") == bulk(""))
        #expect(h.run("GETRANGE", "s", "15", "15") == bulk("g"))
        #expect(h.run("GETRANGE", "s", "16", "16") == bulk(""))
        #expect(h.run("GETRANGE", "s", "0", "9223372036854775807") == bulk("This is a string"))
        #expect(h.run("GETRANGE", "s", "-9223372036854775808", "-1") == bulk("This is a string"))
        #expect(h.run("GETRANGE", "missing", "0", "-1") == bulk(""))
        #expect(h.run("GETRANGE", "s", "a", "1") == notInteger)
        #expect(h.run("SUBSTR", "s", "0", "3") == bulk("This"))
        h.run("SET", "e", "")
        #expect(h.run("GETRANGE", "e", "0", "-1") == bulk(""))
        #expect(h.run("GETRANGE", "e", "-1", "0") == bulk(""))
        h.run("SET", "n", "12345")
        #expect(h.run("GETRANGE", "n", "1", "-2") == bulk("234"))
    }

    @Test func setrangePadsWithZeros() {
        let h = Harness()
        #expect(h.run("SETRANGE", "m", "5", "hi") == int(7))
        #expect(h.runBytes([Array("GET".utf8), Array("m".utf8)]) == Array("$7\r\n".utf8) + [0, 0, 0, 0, 0] + Array("hi\r\n".utf8))
        #expect(h.run("STRLEN", "m") == int(7))
        h.run("SET", "k", "Hello World")
        #expect(h.run("SETRANGE", "k", "6", "Redis") == int(11))
        #expect(h.run("GET", "k") == bulk("Hello Redis"))
        #expect(h.run("SETRANGE", "k", "13", "!") == int(14))
        #expect(h.runBytes([Array("GET".utf8), Array("k".utf8)]) == Array("$14\r\nHello Redis".utf8) + [0, 0] + Array("!\r\n".utf8))
        #expect(h.run("OBJECT", "ENCODING", "k") == bulk("raw"))
    }

    @Test func setrangeEdgeCases() {
        let h = Harness()
        h.run("SET", "k", "Hello World")
        #expect(h.run("SETRANGE", "k", "-1", "x") == err("ERR offset is out of range"))
        #expect(h.run("SETRANGE", "k", "abc", "x") == notInteger)
        // An empty patch changes nothing and does not create the key.
        #expect(h.run("SETRANGE", "e", "0", "") == int(0))
        #expect(h.run("EXISTS", "e") == int(0))
        #expect(h.run("SETRANGE", "k", "100", "") == int(11))
        #expect(h.run("STRLEN", "k") == int(11))
        #expect(h.run("SETRANGE", "z", "536870912", "") == int(0))
        // Past proto-max-bulk-len (512 MB).
        #expect(h.run("SETRANGE", "k", "536870912", "x") == err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"))
        #expect(h.run("SETRANGE", "k", "9223372036854775807", "x") == err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"))
        #expect(h.run("GET", "k") == bulk("Hello World"))
        h.run("INCR", "n")
        #expect(h.run("SETRANGE", "n", "1", "5") == int(2))
        #expect(h.run("GET", "n") == bulk("15"))
    }

    @Test func setrangeKeepsTTL() {
        let h = Harness()
        h.run("SET", "t", "abc", "EX", "1000")
        #expect(h.run("SETRANGE", "t", "1", "X") == int(3))
        #expect(h.run("GET", "t") == bulk("aXc"))
        #expect((999...1000).contains(h.integer("TTL", "t") ?? -100))
    }
}

@Suite struct LCSCommandTests {
    private func harness() -> Harness {
        let h = Harness()
        h.run("MSET", "key1", "ohmytext", "key2", "mynewtext")
        return h
    }

    @Test func string() {
        let h = harness()
        #expect(h.run("LCS", "key1", "key2") == bulk("mytext"))
        #expect(h.run("LCS", "key1", "missing") == bulk(""))
        #expect(h.run("LCS", "missing1", "missing2") == bulk(""))
        h.run("MSET", "a", "xaxbx", "b", "yaybyy")
        #expect(h.run("LCS", "a", "b") == bulk("ab"))
    }

    @Test func length() {
        let h = harness()
        #expect(h.run("LCS", "key1", "key2", "LEN") == int(6))
        #expect(h.run("LCS", "key1", "missing", "LEN") == int(0))
    }

    @Test func indexes() {
        let h = harness()
        let expected = array(bulk("matches"),
                             array(array(array(int(4), int(7)), array(int(5), int(8))),
                                   array(array(int(2), int(3)), array(int(0), int(1)))),
                             bulk("len"), int(6))
        #expect(h.run("LCS", "key1", "key2", "IDX") == expected)
        // A negative MINMATCHLEN counts as 0.
        #expect(h.run("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5") == expected)
    }

    @Test func indexesWithMinMatchLenAndMatchLen() {
        let h = harness()
        #expect(h.run("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4")
                == array(bulk("matches"), array(array(array(int(4), int(7)), array(int(5), int(8)))), bulk("len"), int(6)))
        #expect(h.run("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
                == array(bulk("matches"), array(array(array(int(4), int(7)), array(int(5), int(8)), int(4))), bulk("len"), int(6)))
        #expect(h.run("LCS", "key1", "key2", "IDX", "WITHMATCHLEN")
                == array(bulk("matches"),
                         array(array(array(int(4), int(7)), array(int(5), int(8)), int(4)),
                               array(array(int(2), int(3)), array(int(0), int(1)), int(2))),
                         bulk("len"), int(6)))
    }

    @Test func indexesEdgeCases() {
        let h = harness()
        #expect(h.run("LCS", "missing1", "missing2", "IDX") == array(bulk("matches"), array(), bulk("len"), int(0)))
        #expect(h.run("LCS", "key1", "key1", "IDX")
                == array(bulk("matches"), array(array(array(int(0), int(7)), array(int(0), int(7)))), bulk("len"), int(8)))
        h.run("MSET", "a", "abcdef", "b", "abcdef")
        #expect(h.run("LCS", "a", "b", "IDX", "WITHMATCHLEN")
                == array(bulk("matches"), array(array(array(int(0), int(5)), array(int(0), int(5)), int(6))), bulk("len"), int(6)))
        h.run("MSET", "a", "xaxbx", "b", "yaybyy")
        #expect(h.run("LCS", "a", "b", "IDX")
                == array(bulk("matches"),
                         array(array(array(int(3), int(3)), array(int(3), int(3))),
                               array(array(int(1), int(1)), array(int(1), int(1)))),
                         bulk("len"), int(2)))
    }

    @Test func resp3UsesAMap() {
        let h = harness()
        h.run("HELLO", "3")
        #expect(h.run("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4")
                == "%2\r\n" + bulk("matches") + array(array(array(int(4), int(7)), array(int(5), int(8)))) + bulk("len") + int(6))
    }

    @Test func errors() {
        let h = harness()
        #expect(h.run("LCS", "key1", "key2", "LEN", "IDX") == err("ERR If you want both the length and indexes, please just use IDX."))
        #expect(h.run("LCS", "key1", "key2", "FOO") == syntaxError)
        #expect(h.run("LCS", "key1", "key2", "MINMATCHLEN") == syntaxError)
        #expect(h.run("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "x") == notInteger)
        #expect(h.run("LCS", "key1") == err("ERR wrong number of arguments for 'lcs' command"))
    }
}
