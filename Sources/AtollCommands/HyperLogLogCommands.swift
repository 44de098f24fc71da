/// HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST, on string values in Redis's
/// layout (see `HyperLogLog`). A value that is not a HyperLogLog gets Redis's WRONGTYPE text;
/// a damaged one `INVALIDOBJ`, never a crash.
import AtollCore
import AtollBytes
import AtollKeyspace
import AtollRESP

enum HyperLogLogCommands {
    static let commands: [CommandBinding] = [
        .init("pfadd", pfadd),
        .init("pfcount", .mayReplicate, pfcount),
        .init("pfmerge", pfmerge),
        .init("pfdebug", pfdebug),
        .init("pfselftest", pfselftest),
    ]

    static let invalid = "INVALIDOBJ Corrupted HLL object detected"
    static let notHyperLogLog = "WRONGTYPE Key is not a valid HyperLogLog string value."

    /// Whether `key` holds a HyperLogLog: `.some(false)` when missing, nil after an error
    /// reply. Nothing of the value is kept, so that `modify` then changes it in place.
    static func check(_ key: Bytes, _ c: inout CommandContext, forWriting: Bool = false) -> Bool? {
        switch peek(key, &c, forWriting: forWriting) {
        case .missing: return false
        case .cached, .stale: return true
        case .wrongType:
            c.wrongType()
            return nil
        case .notHyperLogLog:
            c.out.error(notHyperLogLog)
            return nil
        }
    }

    /// Runs `body` on the HyperLogLog at `key` (checked first), in place; the key counts as
    /// modified when `body` says it changed the value.
    static func modify<R>(_ key: Bytes, _ c: inout CommandContext, _ body: (inout HyperLogLog) -> (R, changed: Bool)) -> R {
        let (result, changed) = c.changeStringInPlace(key) { HyperLogLog.inPlace(&$0, body) }
        if changed { c.modified(key) }
        return result
    }

    /// The HyperLogLog at `key` to read: `.some(nil)` when missing, nil after an error reply.
    static func read(_ key: Bytes, _ c: inout CommandContext) -> HyperLogLog?? {
        guard let exists = check(key, &c) else { return nil }
        return .some(exists ? HyperLogLog(bytes: c.lookup(key)!.value.stringBytes) : nil)
    }

    /// What PFADD met at its key: a HyperLogLog it changed in place (whether a register
    /// rose, nil when the value turned out damaged), or a value it cannot add to.
    enum AddOutcome { case added(Bool?), wrongType, notHyperLogLog }

    /// PFADD changes a stored HyperLogLog where it is, with one lookup (the table's reference
    /// to the bytes is dropped first, so they are not copied); a missing key gets a new one.
    static func pfadd(_ c: inout CommandContext) {
        let key = Bytes(c.args[1])
        let sparseMax = c.server.config.hllSparseMaxBytes
        var expired = 0
        let touch = c.client.noTouch ? nil : c.touchClock
        let outcome = addInPlace(c.args, key: key, hash: c.hintedHash(key), to: &c.keyspace.databases[c.client.db],
                                 now: c.now, expired: &expired, touch: touch, sparseMax: sparseMax)
        if expired > 0 { c.noteExpired(key, db: c.client.db) }
        let updated: Bool
        switch outcome {
        case .wrongType?: return c.wrongType()
        case .notHyperLogLog?: return c.out.error(notHyperLogLog)
        case .added(nil)?: return c.out.error(invalid)
        case .added(let changed?)?:
            updated = changed
            if updated { c.modified(key) }
        case nil:
            var hll = HyperLogLog.empty()
            // A new HyperLogLog is never damaged; its cache is stale even with no element, as
            // Redis leaves it.
            _ = add(c.args, to: &hll, sparseMax: sparseMax)
            hll.invalidateCache()
            c.store(key, .string(Bytes(hll.bytes)), raw: true)
            updated = true
        }
        if updated { c.notify(.string, "pfadd", key) }
        c.out.integer(updated ? 1 : 0)
    }

    /// PFADD's change of a stored HyperLogLog, in place (nil: no live key). `args` is passed
    /// on, not captured: a copy of the context's list for the closure cost a retain and a release.
    private static func addInPlace(_ args: [[UInt8]], key: Bytes, hash: Int?, to database: inout Database, now: Int64,
                                   expired: inout Int, touch: AccessClock?, sparseMax: Int) -> AddOutcome? {
        database.modifyLive(key, hash: hash, now: now, expired: &expired, touch: touch) { entry -> AddOutcome in
            guard case .string(let stored) = entry.value else { return entry.value.isString ? .notHyperLogLog : .wrongType }
            guard stored.withUnsafeBytes(HyperLogLog.isValid) else { return .notHyperLogLog }
            entry.rawEncoding = true
            return entry.value.changeString { bytes in
                HyperLogLog.inPlace(&bytes) { .added(add(args, to: &$0, sparseMax: sparseMax)) }
            }
        }
    }

    /// Adds the elements from argument 2 on: whether a register rose (the cached cardinality
    /// is then stale), nil for a damaged value, which keeps what was done before the damage
    /// was met, as in Redis.
    static func add(_ args: [[UInt8]], to hll: inout HyperLogLog, sparseMax: Int) -> Bool? {
        var updated = false
        for i in 2..<args.count {
            let (register, value) = HyperLogLog.registerAndValue(args[i])
            guard let changed = hll.raise(register, to: value, sparseMaxBytes: sparseMax) else { return nil }
            if changed == 1 { updated = true }
        }
        if updated { hll.invalidateCache() }
        return updated
    }

    static func pfcount(_ c: inout CommandContext) {
        if c.args.count > 2 {
            var union = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
            for i in 1..<c.args.count {
                guard let found = read(Bytes(c.args[i]), &c) else { return }
                guard let hll = found else { continue }
                guard merge(hll, into: &union) else { return c.out.error(invalid) }
            }
            return c.out.integer(Int(truncatingIfNeeded: HyperLogLog.estimate(HyperLogLog.histogram(of: union))))
        }
        let key = Bytes(c.args[1])
        switch peek(key, &c) {
        case .missing: return c.out.integer(0)
        case .wrongType: return c.wrongType()
        case .notHyperLogLog: return c.out.error(notHyperLogLog)
        case .cached(let cardinality): return c.out.integer(Int(truncatingIfNeeded: cardinality))
        case .stale: break
        }
        // The cache is part of the value: PFCOUNT writes it (and is logged like a write).
        let cardinality: UInt64? = modify(key, &c) { hll in
            if let cached = hll.cachedCardinality { return (cached, false) }
            guard let histogram = hll.histogram() else { return (nil, false) }
            let cardinality = HyperLogLog.estimate(histogram)
            hll.cache(cardinality)
            return (cardinality, true)
        }
        guard let cardinality else { return c.out.error(invalid) }
        c.out.integer(Int(truncatingIfNeeded: cardinality))
    }

    enum CachePeek { case missing, wrongType, notHyperLogLog, cached(UInt64), stale }

    /// What `key` holds, read in place with one lookup and no copy of the value (which is not
    /// kept, so that a change then happens in place): Redis's `isHLLObjectOrReply` check, and
    /// for a HyperLogLog its cached cardinality.
    static func peek(_ key: Bytes, _ c: inout CommandContext, forWriting: Bool = false) -> CachePeek {
        // A read looks at the entry where it is stored: a copy of it cost a retain and a release.
        guard forWriting else { return c.readLive(key) { cachePeek($0.value) } ?? .missing }
        guard let entry = c.lookupWrite(key) else { return .missing }
        return cachePeek(entry.value)
    }

    private static func cachePeek(_ value: Value) -> CachePeek {
        switch value {
        case .string(let bytes):
            return bytes.withUnsafeBytes { raw in
                guard HyperLogLog.isValid(raw) else { return .notHyperLogLog }
                return HyperLogLog.cachedCardinality(raw).map { .cached($0) } ?? .stale
            }
        case .int: return .notHyperLogLog
        default: return .wrongType
        }
    }

    /// Redis's `hllMerge`: each register of `into` becomes the larger of the two. False for a
    /// damaged sparse form.
    static func merge(_ hll: HyperLogLog, into union: inout [UInt8]) -> Bool {
        guard let registers = hll.registers() else { return false }
        for i in 0..<HyperLogLog.registerCount where registers[i] > union[i] { union[i] = registers[i] }
        return true
    }

    static func pfmerge(_ c: inout CommandContext) {
        var union = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        var anyDense = false
        for i in 1..<c.args.count {
            guard let found = read(Bytes(c.args[i]), &c) else { return }
            guard let hll = found else { continue }
            if !hll.isSparse { anyDense = true }
            guard merge(hll, into: &union) else { return c.out.error(invalid) }
        }
        let key = Bytes(c.args[1])
        if c.lookup(key) == nil { c.store(key, .string(Bytes(HyperLogLog.empty().bytes)), raw: true) }
        let sparseMax = c.server.config.hllSparseMaxBytes
        let converted: Bool = modify(key, &c) { hll in
            if anyDense && !hll.convertToDense() { return (false, false) }
            for i in 0..<HyperLogLog.registerCount where union[i] != 0 {
                // A damaged destination was refused by the merge above (it is also a source).
                _ = hll.raise(i, to: union[i], sparseMaxBytes: sparseMax)
            }
            hll.invalidateCache()
            return (true, true)
        }
        guard converted else { return c.out.error(invalid) }
        c.notify(.string, "pfadd", key)
        c.out.ok()
    }

    static func pfdebug(_ c: inout CommandContext) {
        let key = Bytes(c.args[2])
        guard let exists = check(key, &c, forWriting: true) else { return }
        guard exists else { return c.out.error("ERR The specified key does not exist") }
        if c.argIs(1, "getreg") || c.argIs(1, "todense") {
            let converted: Bool? = modify(key, &c) { hll in
                guard hll.isSparse else { return (false, false) }
                guard hll.convertToDense() else { return (nil, false) }
                return (true, true)
            }
            guard let converted else { return c.out.error(invalid) }
            guard c.argIs(1, "getreg") else { return c.out.integer(converted ? 1 : 0) }
            let bytes = c.lookup(key)!.value.stringBytes
            c.out.arrayHeader(HyperLogLog.registerCount)
            for i in 0..<HyperLogLog.registerCount { c.out.integer(Int(HyperLogLog.denseRegister(bytes, i))) }
            return
        }
        let hll = HyperLogLog(bytes: c.lookup(key)!.value.stringBytes)
        if c.argIs(1, "decode") {
            guard hll.isSparse else { return c.out.error("ERR HLL encoding is not sparse") }
            var parts: [String] = []
            var at = HyperLogLog.headerSize
            while at < hll.bytes.count {
                let op = HyperLogLog.opcode(hll.bytes, at)
                switch op {
                case .zero(let n): parts.append("z:\(n)")
                case .xzero(let n): parts.append("Z:\(n)")
                case .val(let value, let n): parts.append("v:\(value),\(n)")
                }
                at += op.size
            }
            c.out.bulk(parts.joined(separator: " "))
        } else if c.argIs(1, "encoding") {
            c.out.status(text: hll.isSparse ? "sparse" : "dense")
        } else {
            c.out.error("ERR Unknown PFDEBUG subcommand '\(String(decoding: c.args[1].prefix { $0 != 0 }, as: UTF8.self))'")
        }
    }

    /// Checks the register packing and that the sparse and dense forms count alike.
    static func pfselftest(_ c: inout CommandContext) {
        var rng = FastRandom()
        var dense = [UInt8](repeating: 0, count: HyperLogLog.denseSize)
        var expected = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        for i in 0..<HyperLogLog.registerCount {
            expected[i] = UInt8(rng.next() & UInt64(HyperLogLog.maxRegister))
            HyperLogLog.setDenseRegister(&dense, i, expected[i])
        }
        for i in 0..<HyperLogLog.registerCount where HyperLogLog.denseRegister(dense, i) != expected[i] {
            return c.out.error("ERR TESTFAILED Register error at \(i)")
        }
        var sparse = HyperLogLog.empty()
        var denseTwin = HyperLogLog.empty()
        _ = denseTwin.convertToDense()
        for n in 0..<20_000 {
            let (register, value) = HyperLogLog.registerAndValue(Array("element:\(n):\(rng.next())".utf8))
            _ = sparse.raise(register, to: value, sparseMaxBytes: Int.max)
            _ = denseTwin.raise(register, to: value, sparseMaxBytes: Int.max)
        }
        guard sparse.registers() == denseTwin.registers(), let a = sparse.histogram(), let b = denseTwin.histogram(),
              HyperLogLog.estimate(a) == HyperLogLog.estimate(b) else {
            return c.out.error("ERR TESTFAILED sparse and dense forms differ")
        }
        c.out.ok()
    }
}
