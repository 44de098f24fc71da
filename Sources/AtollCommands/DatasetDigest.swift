/// DEBUG DIGEST and DIGEST-VALUE: Redis 7.0's dataset fingerprint, so two servers (Atoll or
/// redis-server) holding the same data give the same 40 hex digits whatever order they keep
/// it in. Two operations on a 20-byte digest: `xor` folds in SHA-1(bytes) (order-free, for
/// set members, hash fields, sorted-set members and keys), `mix` folds it in and then replaces
/// the digest by its own SHA-1 (order-sensitive, for list elements and the parts of one item).
/// A key's digest mixes its name, its type number (big-endian 32 bits), its value, and xors
/// the word `!!expire!!` when it has a TTL; the dataset's xors every key's digest into a
/// digest mixed with each non-empty database's number. (A digest folded into another is
/// hashed like any bytes.)
import AtollBytes
import AtollKeyspace
import DequeModule

struct DatasetDigest {
    private(set) var bytes = [UInt8](repeating: 0, count: 20)

    /// 40 lowercase hex digits.
    var hex: String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    mutating func xor(_ data: [UInt8]) {
        let hash = sha1(data)
        for i in 0..<20 { bytes[i] ^= hash[i] }
    }

    mutating func mix(_ data: [UInt8]) {
        xor(data)
        bytes = sha1(bytes)
    }

    /// Big-endian 32 bits, as Redis's `htonl` before hashing a type or database number.
    static func word(_ n: Int) -> [UInt8] {
        let v = UInt32(truncatingIfNeeded: n)
        return [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }

    /// A value's digest (what DIGEST-VALUE prints; DIGEST adds the key name first).
    static func of(_ entry: Entry, startingFrom start: DatasetDigest = DatasetDigest()) -> DatasetDigest {
        var digest = start
        switch entry.value {
        case .string, .int:
            digest.mix(word(0))
            digest.mix(entry.value.stringBytes)
        case .list(let list):
            digest.mix(word(1))
            for item in list.items { digest.mix(item.array) }
        case .set(let set):
            digest.mix(word(2))
            set.forEach { digest.xor($0.array) }
        case .zset(let zset):
            digest.mix(word(3))
            zset.forEach { member, score in
                var element = DatasetDigest()
                element.mix(member.array)
                element.mix(Array(formatDouble17g(score).utf8))
                digest.xor(element.bytes)
            }
        case .stream(let stream):
            // Each entry mixes its ID as `ms.seq`, then each field and value.
            digest.mix(word(6))
            stream.forEach(from: .zero, to: .max) { entry in
                digest.mix(Array("\(entry.id.ms).\(entry.id.seq)".utf8))
                entry.forEachPair { field, value in
                    digest.mix(entry.bytes(field))
                    digest.mix(entry.bytes(value))
                }
                return true
            }
        case .hash(let hash):
            digest.mix(word(4))
            hash.forEach { field, value in
                var element = DatasetDigest()
                element.mix(field.array)
                element.mix(value.array)
                digest.xor(element.bytes)
            }
        }
        if entry.expireAt != noExpiry { digest.xor(Array("!!expire!!".utf8)) }
        return digest
    }

    /// The whole dataset's digest; all zeros when every database is empty.
    static func of(_ keyspace: Keyspace, now: Int64) -> DatasetDigest {
        var final = DatasetDigest()
        for (index, db) in keyspace.databases.enumerated() where db.count > 0 {
            final.mix(word(index))
            db.table.forEach { key, entry in
                var keyDigest = DatasetDigest()
                keyDigest.mix(key.array)
                final.xor(of(entry, startingFrom: keyDigest).bytes)
            }
        }
        return final
    }
}
