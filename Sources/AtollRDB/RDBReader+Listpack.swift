/// The listpack-encoded values of an RDB file or DUMP payload (hashes, sorted sets, the nodes
/// of a quicklist), read in place: the listpack is walked inside the reader's bytes and each
/// element goes straight into the value, with no array per element on the way (a RESTORE of a
/// four-field hash spent most of its time making and freeing those).
import AtollBytes
import AtollKeyspace
import DequeModule

extension RDBReader {
    /// Where the next string's bytes are.
    enum StringBytes {
        /// A plain string: these bytes of the reader's own.
        case inPlace(Range<Int>)
        /// An integer-encoded or compressed string, decoded.
        case decoded([UInt8])
    }

    /// Reads past the next string and says where its bytes are, without copying a plain one.
    mutating func stringBytes() throws(RDBError) -> StringBytes {
        let start = position
        let (n, encoded) = try lengthOrEncoding()
        guard !encoded else {
            position = start
            return .decoded(try string())
        }
        guard position + n <= bytes.count else { throw fail("Unexpected end of file") }
        position += n
        return .inPlace((position - n)..<position)
    }

    /// Calls `body` with the bytes `string` locates.
    func withBytes<R>(of string: StringBytes, _ body: (UnsafeRawBufferPointer) throws(RDBError) -> R) throws(RDBError) -> R {
        let result: Result<R, RDBError>
        switch string {
        case .inPlace(let range):
            result = bytes.withUnsafeBytes { all in
                do throws(RDBError) { return .success(try body(UnsafeRawBufferPointer(rebasing: all[range]))) }
                catch { return .failure(error) }
            }
        case .decoded(let decoded):
            result = decoded.withUnsafeBytes { all in
                do throws(RDBError) { return .success(try body(all)) } catch { return .failure(error) }
            }
        }
        return try result.get()
    }

    /// Checks a whole listpack (`ListpackCoding.validatedCount`) and returns how many elements
    /// it holds; a `ListpackCursor` may then read them without checks of its own. (Static, with
    /// the reader's `offset` for errors: a closure that called a method of the reader copied the
    /// reader, ten reference counts a RESTORE.)
    static func checkListpack(_ lp: UnsafeRawBufferPointer, offset: Int) throws(RDBError) -> Int {
        guard let count = ListpackCoding.validatedCount(lp) else { throw RDBError(reason: "Bad listpack", offset: offset) }
        return count
    }

    /// Calls `body` with an element's text: a string's bytes, or an integer's decimal digits.
    @inline(__always)
    static func withText<R>(_ element: ListpackElement, in lp: UnsafeRawBufferPointer,
                            _ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch element {
        case .string(let range): return body(UnsafeRawBufferPointer(rebasing: lp[range]))
        case .int(let n): return Bytes(decimal: n).withUnsafeBytes(body)
        }
    }

    /// The length of an element's text.
    @inline(__always)
    static func textLength(_ element: ListpackElement) -> Int {
        switch element {
        case .string(let range): return range.count
        case .int(let n): return decimalLength(n)
        }
    }

    /// An element as a stored string.
    @inline(__always)
    static func bytes(_ element: ListpackElement, in lp: UnsafeRawBufferPointer) -> Bytes {
        switch element {
        case .string(let range): return Bytes(UnsafeRawBufferPointer(rebasing: lp[range]))
        case .int(let n): return Bytes(decimal: n)
        }
    }

    /// A hash from a listpack (RDB type 16): field, value, field, value... A hash within the
    /// compact limits is made at its final size and filled in place; a bigger one is converted
    /// as it fills, as Redis converts it after loading. A field twice is damage.
    mutating func hashFromListpack() throws(RDBError) -> Value? {
        let limits = self.limits
        let blob = try stringBytes()
        let offset = position
        return try withBytes(of: blob) { (lp) throws(RDBError) -> Value? in
            let count = try Self.checkListpack(lp, offset: offset)
            guard count % 2 == 0 else { throw RDBError(reason: "Odd listpack for a hash", offset: offset) }
            if count == 0 { return nil }
            var compact = count / 2 <= limits.hashMaxListpackEntries
            var packed = 0
            var sizing = ListpackCursor(lp)
            while compact, let field = sizing.next(), let value = sizing.next() {
                let fieldLength = Self.textLength(field), valueLength = Self.textLength(value)
                compact = fieldLength <= limits.hashMaxListpackValue && valueLength <= limits.hashMaxListpackValue
                packed += HashObject.packedSize(fieldLength: fieldLength, valueLength: valueLength)
            }
            let hash = HashObject.make(bytes: compact ? packed : 0)
            var cursor = ListpackCursor(lp)
            var seen = Self.DuplicateCheck(entries: count / 2)
            while let field = cursor.next(), let value = cursor.next() {
                let known = compact && seen.isNew(field, in: lp)
                let added = compact
                    ? Self.withText(field, in: lp) { f in
                        Self.withText(value, in: lp) { v in hash.appendNew(field: f, value: v, reserved: packed, knownNew: known) }
                    }
                    : hash.set(Self.bytes(field, in: lp), Self.bytes(value, in: lp), limits: limits)
                guard added else { throw RDBError(reason: "Duplicate hash fields detected", offset: offset) }
            }
            return .hash(hash)
        }
    }

    /// A sorted set from a listpack (RDB type 17): member, score, member, score... A set within
    /// the compact limits is made at its final size first.
    mutating func sortedSetFromListpack() throws(RDBError) -> Value? {
        let limits = self.limits
        let blob = try stringBytes()
        let offset = position
        return try withBytes(of: blob) { (lp) throws(RDBError) -> Value? in
            let count = try Self.checkListpack(lp, offset: offset)
            guard count % 2 == 0 else { throw RDBError(reason: "Odd listpack for a sorted set", offset: offset) }
            var compact = count / 2 <= limits.zsetMaxListpackEntries
            var packed = 0
            var sizing = ListpackCursor(lp)
            while let member = sizing.next(), let element = sizing.next() {
                let length = Self.textLength(member)
                compact = compact && length <= limits.zsetMaxListpackValue
                // A score written as text (Redis writes every integral one as an integer) is
                // given the most room a score takes, so that it is parsed only once, below.
                if case .int(let n) = element {
                    packed += SortedSetObject.packedSize(memberLength: length, score: Double(n))
                } else {
                    packed += SortedSetObject.largestPackedSize(memberLength: length)
                }
            }
            let zset = SortedSetObject.make(compact: compact, bytes: compact ? packed : 0)
            var cursor = ListpackCursor(lp)
            // While the entries come in the set's order (as Redis writes them), each is appended;
            // from the first that does not, they are inserted where they belong.
            var inOrder = compact
            var previous: (score: Double, member: ListpackElement)?
            var seen = Self.DuplicateCheck(entries: count / 2)
            while let member = cursor.next(), let element = cursor.next() {
                let read = try Self.score(element, in: lp, offset: offset)
                // The score as the compact form keeps it, which the order is checked with.
                let score = SortedSetObject.listpackScore(read)
                if inOrder, let last = previous {
                    inOrder = last.score < score || (last.score == score && Self.withText(last.member, in: lp) { a in
                        Self.withText(member, in: lp) { b in compareBytes(a, b) < 0 }
                    })
                }
                previous = (score, member)
                let known = inOrder && seen.isNew(member, in: lp)
                let added = inOrder
                    ? Self.withText(member, in: lp) { zset.appendNew(member: $0, score: score, reserved: packed, knownNew: known) }
                    : zset.set(Self.bytes(member, in: lp), read, limits: limits) == nil
                guard added else { throw RDBError(reason: "Duplicate zset fields detected", offset: offset) }
            }
            return zset.count == 0 ? nil : .zset(zset)
        }
    }

    /// A listpack element read as a score: an integer, or text as `Double(String)` reads it.
    private static func score(_ element: ListpackElement, in lp: UnsafeRawBufferPointer, offset: Int) throws(RDBError) -> Double {
        let score: Double?
        switch element {
        case .int(let n): score = Double(n)
        case .string(let range):
            let text = UnsafeRawBufferPointer(rebasing: lp[range])
            score = shortDecimal(text) ?? Double(String(decoding: text, as: UTF8.self))
        }
        guard let score, !score.isNaN else { throw RDBError(reason: "Bad score", offset: offset) }
        return score
    }

    /// A list as a quicklist of listpacks (RDB type 18); a node may also hold one plain item.
    mutating func quicklist() throws(RDBError) -> Value? {
        let list = ListObject()
        for _ in 0..<(try length()) {
            let container = try length()
            guard container == 1 || container == 2 else { throw fail("Quicklist integrity check failed") }
            if container == 1 {
                list.items.append(Bytes(try string()))
                continue
            }
            let blob = try stringBytes()
            let offset = position
            try withBytes(of: blob) { (lp) throws(RDBError) in
                let count = try Self.checkListpack(lp, offset: offset)
                var cursor = ListpackCursor(lp)
                guard list.items.isEmpty else {
                    while let element = cursor.next() { list.items.append(Self.bytes(element, in: lp)) }
                    return
                }
                // A one-node list (most lists) is made at its size in one pass, not appended to.
                list.items = Deque(unsafeUninitializedCapacity: count) { items, initialized in
                    while initialized < count, let element = cursor.next() {
                        (items.baseAddress! + initialized).initialize(to: Self.bytes(element, in: lp))
                        initialized += 1
                    }
                }
            }
        }
        return list.count == 0 ? nil : .list(list)
    }
}

extension RDBReader {
    /// Duplicate names of a big compact collection being loaded, found through a hash set: the
    /// collection's own search is linear, so checking each new name with it was quadratic (a
    /// 50,000-field listpack under a raised `hash-max-listpack-entries` took 18 s, where Redis,
    /// which does not check, takes milliseconds). Small ones are left to that search.
    struct DuplicateCheck {
        private var names: Set<Bytes>?

        init(entries: Int) { names = entries > 64 ? Set(minimumCapacity: entries) : nil }

        /// True when the set is in use and `name` was not seen before (the caller skips its own
        /// search); false when it was, or when the set is not in use (the caller searches).
        mutating func isNew(_ name: ListpackElement, in lp: UnsafeRawBufferPointer) -> Bool {
            guard names != nil else { return false }
            return names!.insert(RDBReader.bytes(name, in: lp)).inserted
        }
    }
}

/// The elements of a listpack that `RDBReader.checkListpack` accepted, in order.
struct ListpackCursor {
    let lp: UnsafeRawBufferPointer
    var offset = 6

    init(_ lp: UnsafeRawBufferPointer) { self.lp = lp }

    @inline(__always)
    mutating func next() -> ListpackElement? {
        guard offset < lp.count - 1 else { return nil }
        let (element, next) = ListpackCoding.read(lp, at: offset)
        offset = next
        return element
    }
}
