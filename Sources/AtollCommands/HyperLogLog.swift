/// A HyperLogLog in Redis's own string layout, so that a value moves between Atoll and Redis
/// (GET/SET, DUMP/RESTORE, RDB, the append-only file) and counts the same:
///
/// - a 16-byte header: `HYLL`, the encoding (0 dense, 1 sparse), 3 unused bytes, and the cached
///   cardinality (8 bytes, little-endian; the top bit of the last byte set means "stale");
/// - dense: 16384 registers of 6 bits, packed from the least significant bit of each byte;
/// - sparse: run-length opcodes, ZERO `00xxxxxx` (1-64 zero registers), XZERO `01xxxxxx yyyyyyyy`
///   (1-16384), VAL `1vvvvvxx` (1-4 registers of value 1-32).
///
/// Elements are hashed with MurmurHash64A (seed 0xadc83b19); the low 14 bits pick the register,
/// the run of zero bits above them (plus one) is the register's candidate value. Updates follow
/// Redis's algorithm step for step (split the opcode, merge equal neighbours, promote to dense
/// past `hll-sparse-max-bytes`), since the bytes themselves are what other servers read.
struct HyperLogLog {
    static let registerCount = 16384
    static let headerSize = 16
    static let denseSize = headerSize + registerCount * 6 / 8
    static let maxRegister: UInt8 = 63
    static let sparseMaxValue = 32
    static let sparseMaxRunLength = 4
    static let zeroMaxLength = 64
    static let xzeroMaxLength = 16384

    /// The whole string value, header included.
    var bytes: [UInt8]

    /// A new, empty sparse HyperLogLog, as PFADD and PFMERGE create it.
    static func empty() -> HyperLogLog {
        var bytes = Array("HYLL".utf8) + [1] + [UInt8](repeating: 0, count: 11)
        bytes += [0x40 | UInt8((xzeroMaxLength - 1) >> 8), UInt8((xzeroMaxLength - 1) & 0xff)]
        return HyperLogLog(bytes: bytes)
    }

    /// Runs `body` on the HyperLogLog `bytes` hold, which it holds meanwhile: the array is
    /// moved in and back, not copied nor reference counted.
    static func inPlace<R>(_ bytes: inout [UInt8], _ body: (inout HyperLogLog) -> R) -> R {
        var hll = HyperLogLog(bytes: [])
        swap(&hll.bytes, &bytes)
        defer { swap(&hll.bytes, &bytes) }
        return body(&hll)
    }

    /// Redis's `isHLLObjectOrReply` check: a header, the magic, a known encoding, and the exact
    /// size when dense.
    static func isValid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes(isValid) }

    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= headerSize, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "Y"),
              bytes[2] == UInt8(ascii: "L"), bytes[3] == UInt8(ascii: "L"), bytes[4] <= 1 else { return false }
        return bytes[4] == 1 || bytes.count == denseSize
    }

    /// The cached cardinality of a valid value, read in place; nil when stale.
    static func cachedCardinality(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes[15] & 0x80 == 0 else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[8 + i]) << UInt64(8 * i) }
        return value
    }

    var isSparse: Bool { bytes[4] == 1 }

    // MARK: - Cached cardinality

    var cachedCardinality: UInt64? { bytes.withUnsafeBytes(Self.cachedCardinality) }

    mutating func cache(_ cardinality: UInt64) {
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: cardinality >> UInt64(8 * i)) }
    }

    mutating func invalidateCache() { bytes[15] |= 0x80 }

    // MARK: - Hashing

    /// MurmurHash64A, as Redis uses it (little-endian words, seed 0xadc83b19).
    static func hash(_ element: [UInt8]) -> UInt64 {
        let m: UInt64 = 0xc6a4a7935bd1e995
        let r: UInt64 = 47
        var h: UInt64 = 0xadc83b19 ^ (UInt64(element.count) &* m)
        let whole = element.count & ~7
        element.withUnsafeBytes { raw in
            var i = 0
            while i < whole {
                var k = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                k = k &* m
                k ^= k >> r
                k = k &* m
                h ^= k
                h = h &* m
                i += 8
            }
        }
        let tail = element.count & 7
        if tail > 0 {
            for j in stride(from: tail - 1, through: 0, by: -1) { h ^= UInt64(element[whole + j]) << UInt64(8 * j) }
            h = h &* m
        }
        h ^= h >> r
        h = h &* m
        h ^= h >> r
        return h
    }

    /// The register an element goes to and the value it proposes (1...51).
    static func registerAndValue(_ element: [UInt8]) -> (register: Int, value: UInt8) {
        let h = hash(element)
        let register = Int(h & UInt64(registerCount - 1))
        let rest = (h >> 14) | (1 << 50)
        return (register, UInt8(rest.trailingZeroBitCount + 1))
    }

    // MARK: - Dense registers

    static func denseRegister(_ bytes: [UInt8], _ index: Int) -> UInt8 {
        let byte = headerSize + index * 6 / 8
        let shift = (index * 6) & 7
        let low = Int(bytes[byte]) >> shift
        // The last register's second byte is past the end (Redis reads its string terminator).
        let high = byte + 1 < bytes.count ? Int(bytes[byte + 1]) << (8 - shift) : 0
        return UInt8((low | high) & Int(maxRegister))
    }

    static func setDenseRegister(_ bytes: inout [UInt8], _ index: Int, _ value: UInt8) {
        let byte = headerSize + index * 6 / 8
        let shift = (index * 6) & 7
        let v = Int(value)
        bytes[byte] = UInt8(truncatingIfNeeded: (Int(bytes[byte]) & ~(Int(maxRegister) << shift)) | (v << shift))
        if byte + 1 < bytes.count {
            let keep = Int(bytes[byte + 1]) & ~(Int(maxRegister) >> (8 - shift))
            bytes[byte + 1] = UInt8(truncatingIfNeeded: keep | (v >> (8 - shift)))
        }
    }

    // MARK: - Sparse opcodes

    enum Opcode {
        case zero(Int)
        case xzero(Int)
        case val(value: Int, length: Int)

        var registers: Int {
            switch self {
            case .zero(let n), .xzero(let n): return n
            case .val(_, let n): return n
            }
        }
        var size: Int {
            if case .xzero = self { return 2 }
            return 1
        }
    }

    /// The opcode at `at`; a cut-short XZERO reads its second byte as zero, as Redis does.
    static func opcode(_ bytes: [UInt8], _ at: Int) -> Opcode {
        let b = Int(bytes[at])
        let registers = bytes.withUnsafeBufferPointer { span($0, at).registers }
        if b & 0xc0 == 0 { return .zero(registers) }
        if b & 0x80 != 0 { return .val(value: ((b >> 2) & 0x1f) + 1, length: registers) }
        return .xzero(registers)
    }

    /// The registers the opcode at `at` covers and its size in bytes, read as `opcode` reads
    /// it, without making an `Opcode`: the sparse walk's inner loop.
    @inline(__always)
    static func span(_ p: UnsafeBufferPointer<UInt8>, _ at: Int) -> (registers: Int, size: Int) {
        let b = Int(p[at])
        if b & 0xc0 == 0 { return ((b & 0x3f) + 1, 1) }
        if b & 0x80 != 0 { return ((b & 3) + 1, 1) }
        let second = at + 1 < p.count ? Int(p[at + 1]) : 0
        return (((b & 0x3f) << 8 | second) + 1, 2)
    }

    static func encode(_ op: Opcode) -> [UInt8] {
        switch op {
        case .zero(let n): return [UInt8(n - 1)]
        case .xzero(let n): return [0x40 | UInt8((n - 1) >> 8), UInt8((n - 1) & 0xff)]
        case .val(let value, let n): return [0x80 | UInt8((value - 1) << 2) | UInt8(n - 1)]
        }
    }

    /// A run of zero registers: ZERO up to 64, XZERO beyond.
    static func zeros(_ n: Int) -> [UInt8] { encode(n > zeroMaxLength ? .xzero(n) : .zero(n)) }

    /// Every register, whatever the encoding; nil for a sparse form that does not cover
    /// exactly 16384 registers (a damaged value).
    func registers() -> [UInt8]? {
        if !isSparse { return (0..<Self.registerCount).map { Self.denseRegister(bytes, $0) } }
        var registers = [UInt8](repeating: 0, count: Self.registerCount)
        var index = 0
        var at = Self.headerSize
        while at < bytes.count {
            let op = Self.opcode(bytes, at)
            if case .val(let value, let length) = op {
                guard index + length <= Self.registerCount else { return nil }
                for i in index..<(index + length) { registers[i] = UInt8(value) }
            }
            index += op.registers
            at += op.size
        }
        return index == Self.registerCount ? registers : nil
    }

    /// Redis's `hllSparseToDense`: the header is kept (cache included), the registers copied.
    /// False for a damaged sparse form. Nothing to do when already dense.
    mutating func convertToDense() -> Bool {
        guard isSparse else { return true }
        guard let registers = registers() else { return false }
        var dense = Array(bytes[0..<Self.headerSize]) + [UInt8](repeating: 0, count: Self.denseSize - Self.headerSize)
        dense[4] = 0
        for (i, value) in registers.enumerated() where value != 0 { Self.setDenseRegister(&dense, i, value) }
        bytes = dense
        return true
    }

    /// Sets register `index` to `value` if that raises it. Returns 1 when it changed, 0 when
    /// not, and nil for a damaged value.
    mutating func raise(_ index: Int, to value: UInt8, sparseMaxBytes: Int) -> Int? {
        if !isSparse {
            guard Self.denseRegister(bytes, index) < value else { return 0 }
            Self.setDenseRegister(&bytes, index, value)
            return 1
        }
        if Int(value) > Self.sparseMaxValue { return promote(index, value) }
        // Step 1: the opcode covering the register, walked in place.
        var at = Self.headerSize
        var first = 0
        var previous: Int?
        bytes.withUnsafeBufferPointer { p in
            while at < p.count {
                let (registers, size) = Self.span(p, at)
                if index < first + registers { return }
                previous = at
                at += size
                first += registers
            }
        }
        // A damaged value: no opcode covers the register, or the one that does is cut short.
        // (Redis goes on with a cut-short XZERO, writing its split partly past the value's end
        // and reading that stale byte later; that is not followed.)
        guard at < bytes.count else { return nil }
        let op = Self.opcode(bytes, at)
        guard at + op.size <= bytes.count else { return nil }
        // Step 2: the replacement, unless nothing changes or one byte is enough.
        var replacement: [UInt8]
        switch op {
        case .val(let current, let length):
            if current >= Int(value) { return 0 }
            replacement = []
            if length == 1 {
                replacement = Self.encode(.val(value: Int(value), length: 1))
            } else {
                let last = first + length - 1
                if index != first { replacement += Self.encode(.val(value: current, length: index - first)) }
                replacement += Self.encode(.val(value: Int(value), length: 1))
                if index != last { replacement += Self.encode(.val(value: current, length: last - index)) }
            }
        case .zero(let length) where length == 1:
            replacement = Self.encode(.val(value: Int(value), length: 1))
        case .zero(let length), .xzero(let length):
            let last = first + length - 1
            replacement = []
            if index != first { replacement += Self.zeros(index - first) }
            replacement += Self.encode(.val(value: Int(value), length: 1))
            if index != last { replacement += Self.zeros(last - index) }
        }
        // Step 3: put it in place, or go dense when the value would grow too large.
        let growth = replacement.count - op.size
        if growth > 0 && bytes.count + growth > sparseMaxBytes { return promote(index, value) }
        bytes.replaceSubrange(at..<(at + op.size), with: replacement)
        mergeValues(from: previous ?? Self.headerSize)
        invalidateCache()
        return 1
    }

    /// Redis's step 4: over at most five opcodes from `start`, adjacent VALs of one value whose
    /// lengths fit in one opcode become one.
    private mutating func mergeValues(from start: Int) {
        var at = start
        var scans = 5
        while at < bytes.count && scans > 0 {
            scans -= 1
            let op = Self.opcode(bytes, at)
            guard case .val(let value, let length) = op else {
                at += op.size
                continue
            }
            if at + 1 < bytes.count, case .val(let nextValue, let nextLength) = Self.opcode(bytes, at + 1),
               nextValue == value, length + nextLength <= Self.sparseMaxRunLength {
                bytes.replaceSubrange(at...(at + 1), with: Self.encode(.val(value: value, length: length + nextLength)))
                continue
            }
            at += 1
        }
    }

    private mutating func promote(_ index: Int, _ value: UInt8) -> Int? {
        guard convertToDense() else { return nil }
        Self.setDenseRegister(&bytes, index, max(value, Self.denseRegister(bytes, index)))
        return 1
    }

    // MARK: - Counting

    /// The register histogram (how many registers hold each value); nil for a damaged sparse
    /// form, which Redis counts by opcodes without checking their values' range.
    func histogram() -> [Int]? {
        var histogram = [Int](repeating: 0, count: 64)
        if !isSparse {
            for i in 0..<Self.registerCount { histogram[Int(Self.denseRegister(bytes, i))] += 1 }
            return histogram
        }
        var index = 0
        var at = Self.headerSize
        while at < bytes.count {
            let op = Self.opcode(bytes, at)
            switch op {
            case .zero(let n), .xzero(let n): histogram[0] += n
            case .val(let value, let n): histogram[value] += n
            }
            index += op.registers
            at += op.size
        }
        return index == Self.registerCount ? histogram : nil
    }

    static func histogram(of registers: [UInt8]) -> [Int] {
        var histogram = [Int](repeating: 0, count: 64)
        for value in registers { histogram[Int(value)] += 1 }
        return histogram
    }

    /// Otmar Ertl's estimator ("New cardinality estimation algorithms for HyperLogLog
    /// sketches", 2017), as Redis 7 computes it. Registers above 51 (only a crafted dense value
    /// has them) can make the estimate infinite or too large for 64 bits: `llroundl` then gives
    /// LLONG_MIN on x86-64, which Redis replies as -9223372036854775808 and caches with the stale
    /// bit set.
    static func estimate(_ histogram: [Int]) -> UInt64 {
        let m = Double(registerCount)
        let q = 50
        var z = m * tau((m - Double(histogram[q + 1])) / m)
        for j in stride(from: q, through: 1, by: -1) {
            z += Double(histogram[j])
            z *= 0.5
        }
        z += m * sigma(Double(histogram[0]) / m)
        let alphaInfinity = 0.721347520444481703680
        let rounded = (alphaInfinity * m * m / z).rounded()
        // Int64's range is [-2^63, 2^63): the upper bound itself is already out of range.
        guard rounded.isFinite, rounded >= -9223372036854775808.0, rounded < 9223372036854775808.0 else {
            return UInt64(bitPattern: Int64.min)
        }
        return UInt64(bitPattern: Int64(rounded))
    }

    static func sigma(_ x: Double) -> Double {
        if x == 1 { return .infinity }
        var x = x
        var y = 1.0
        var z = x
        var previous: Double
        repeat {
            x *= x
            previous = z
            z += x * y
            y += y
        } while previous != z
        return z
    }

    static func tau(_ x: Double) -> Double {
        if x == 0 || x == 1 { return 0 }
        var x = x
        var y = 1.0
        var z = 1 - x
        var previous: Double
        repeat {
            x = x.squareRoot()
            previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y
        } while previous != z
        return z / 3
    }
}
