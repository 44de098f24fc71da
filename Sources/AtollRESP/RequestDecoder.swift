/// Incremental decoder for client requests: RESP multibulk (`*N\r\n$len\r\n...`) and inline commands.
///
/// It follows Redis 7's `processMultibulkBuffer` / `processInlineBuffer` rules byte for byte, including
/// the exact `Protocol error: ...` texts, so that a malformed request gets the same reply as from Redis.
/// State survives between calls, so a command split across reads is never re-parsed from its start.
import AtollBytes
import NIOCore

/// A malformed request. The connection must reply with `-ERR <message>` and then close.
public struct ProtocolError: Error, Equatable, Sendable {
    /// The text after `-ERR `, e.g. `Protocol error: invalid bulk length`.
    public let message: String
    public init(_ message: String) { self.message = message }
}

public struct RequestDecoder: Sendable {
    /// Largest accepted bulk string (`proto-max-bulk-len`).
    public var maxBulkLength: Int
    /// When true the stricter limits Redis applies before AUTH hold (10 arguments, 16 KiB bulks),
    /// and `decode` stops after each command, so that the caller can run it (it may be the
    /// AUTH) and say whether the limits still hold before the next one is read.
    public var unauthenticated = false {
        didSet { stopsAfterEachCommand = unauthenticated || oneCommandPerCall }
    }
    /// When true `decode` stops after each command, so that the caller can tell the bytes each
    /// one took (a replica counts its master's stream by the byte received).
    public var oneCommandPerCall = false {
        didSet { stopsAfterEachCommand = unauthenticated || oneCommandPerCall }
    }
    private var stopsAfterEachCommand = false

    /// Whether no command is read in part: the next byte starts a command (or a blank line).
    public var isBetweenCommands: Bool { argsRemaining == 0 && bulkLength == -1 && args.isEmpty }

    /// The arguments of a multibulk read in part, from the call that stopped in it until the
    /// call that completes it moves them into the batch; during a call otherwise, the words of
    /// an inline command.
    private var args: [[UInt8]] = []
    /// Inline lines at most this long are remembered (see `previousInlineLine`).
    static let rememberedInlineLineMaxLength = 64
    /// The last short inline line without quotes and the arguments it split into: the same
    /// line again reuses them.
    private var previousInlineLine: [UInt8] = []
    private var previousInlineArgs: [[UInt8]] = []
    /// Arguments still to read in the current multibulk; 0 when between commands.
    private var argsRemaining = 0
    /// Length of the bulk string being waited for, or -1 while its `$len` line is not yet read.
    private var bulkLength = -1
    /// Memory held in `args` (payload plus a per-argument overhead), for the query-buffer limit,
    /// so that millions of tiny arguments count as well as one huge one.
    public private(set) var pendingArgumentBytes = 0

    /// Longest header or inline line Redis accepts before the terminator (`PROTO_INLINE_MAX_SIZE`).
    static let inlineMaxSize = 64 * 1024
    /// The longest bulk argument a client not authenticated yet may send, as in Redis.
    static let unauthenticatedBulkLimit = 16384
    /// Approximate bytes an argument costs beyond its payload (array header and slot).
    public static let argumentOverhead = 40

    public init(maxBulkLength: Int = 512 * 1024 * 1024) {
        self.maxBulkLength = maxBulkLength
    }

    /// Decodes as many whole commands as `buffer` holds, appending each to `commands`
    /// and consuming exactly the bytes they used. Throws on malformed input; the commands
    /// decoded before the error are still appended.
    public mutating func decode(_ buffer: inout ByteBuffer, into commands: inout [[[UInt8]]]) throws(ProtocolError) {
        var batch = CommandBatch()
        defer { commands += batch.commands }
        try decode(&buffer, into: &batch)
    }

    /// As above, appending to a reusable batch (what the server uses).
    public mutating func decode(_ buffer: inout ByteBuffer, into commands: inout CommandBatch) throws(ProtocolError) {
        var consumed = 0
        var failure: ProtocolError?
        buffer.withUnsafeReadableBytes { raw in
            do throws(Failure) {
                consumed = try decode(raw, into: &commands)
            } catch {
                failure = error.value
                consumed = error.consumed
            }
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        if let failure { throw failure }
    }

    private struct Failure: Error {
        let value: ProtocolError
        let consumed: Int
    }

    private mutating func decode(_ raw: UnsafeRawBufferPointer, into commands: inout CommandBatch) throws(Failure) -> Int {
        // A command read in part by an earlier call goes on in `args`, outside the batch, and
        // moves in once whole: moving its arguments into the batch and out again at every read
        // made a command of a million arguments, arriving over many reads, take time quadratic
        // in its length (1.8 s, other clients waiting). One read in part in this call moves
        // out once, at the end.
        var continuing = !args.isEmpty
        defer { if commands.pendingCount > 0 { commands.takePending(into: &args) } }
        var pos = 0
        let end = raw.count
        let decodedBefore = commands.count
        while pos < end {
            // Before AUTH, one command at a time: the limits for unauthenticated clients apply
            // only to what is read before an AUTH in the same input has run, as in Redis.
            if stopsAfterEachCommand && commands.count > decodedBefore { return pos }
            if argsRemaining == 0 && bulkLength == -1 && commands.pendingCount == 0 {
                if raw[pos] == UInt8(ascii: "*") {
                    guard let (plain, cr) = try Self.lengthLine(raw, from: pos, to: end, lead: UInt8(ascii: "*"),
                                                                tooBig: "Protocol error: too big mbulk count string") else {
                        return pos
                    }
                    if cr + 1 >= end { return pos }
                    guard let count = plain ?? parseStrictInt(raw, from: pos + 1, to: cr), count <= Int(Int32.max) else {
                        throw Failure(value: ProtocolError("Protocol error: invalid multibulk length"), consumed: pos)
                    }
                    if count > 10 && unauthenticated {
                        throw Failure(value: ProtocolError("Protocol error: unauthenticated multibulk length"), consumed: pos)
                    }
                    pos = cr + 2
                    if count <= 0 { continue }
                    if !continuing && wholeCommandIsPlain(raw, from: pos, to: end, count: count) {
                        pos = commands.appendCommand(checked: raw, from: pos, count: count)
                        continue
                    }
                    argsRemaining = count
                } else {
                    guard let nl = Self.find(UInt8(ascii: "\n"), in: raw, from: pos, to: end) else {
                        if end - pos > Self.inlineMaxSize { throw Failure(value: ProtocolError("Protocol error: too big inline request"), consumed: pos) }
                        return pos
                    }
                    var lineEnd = nl
                    if lineEnd > pos && raw[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                    let line = UnsafeRawBufferPointer(rebasing: raw[pos..<lineEnd])
                    if !previousInlineArgs.isEmpty, sameBytes(previousInlineLine, line) {
                        // The same line again (a repeated inline command): the same arguments.
                        commands.append(previousInlineArgs)
                    } else if needsQuoteRules(line) {
                        guard let inlineArgs = splitArguments(line) else {
                            throw Failure(value: ProtocolError("Protocol error: unbalanced quotes in request"), consumed: pos)
                        }
                        if !inlineArgs.isEmpty { commands.append(inlineArgs) }
                    } else {
                        // Words copied straight into the reused argument list, the name shared.
                        let base = pos
                        forEachUnquotedWord(line) { word in
                            let start = base + word.lowerBound
                            args.append(Self.copyBytes(raw, from: start, count: word.count))
                        }
                        if !args.isEmpty { commands.append(args) }
                        if line.count <= Self.rememberedInlineLineMaxLength {
                            previousInlineLine = [UInt8](line)
                            swap(&args, &previousInlineArgs)
                        }
                        args.removeAllKeepingCapacity()
                    }
                    pos = nl + 1
                    continue
                }
            }
            // Inside a multibulk: read `$len\r\n` then the payload.
            while argsRemaining > 0 {
                if bulkLength == -1 {
                    guard let (plain, cr) = try Self.lengthLine(raw, from: pos, to: end, lead: UInt8(ascii: "$"),
                                                                tooBig: "Protocol error: too big bulk count string") else {
                        return pos
                    }
                    if cr + 1 >= end { return pos }
                    let lead = raw[pos]
                    if lead != UInt8(ascii: "$") {
                        let shown = (lead == 13 || lead == 10) ? " " : String(decoding: [lead], as: UTF8.self)
                        throw Failure(value: ProtocolError("Protocol error: expected '$', got '\(shown)'"), consumed: pos)
                    }
                    guard let length = plain ?? parseStrictInt(raw, from: pos + 1, to: cr), length >= 0, length <= maxBulkLength else {
                        throw Failure(value: ProtocolError("Protocol error: invalid bulk length"), consumed: pos)
                    }
                    if length > Self.unauthenticatedBulkLimit && unauthenticated {
                        throw Failure(value: ProtocolError("Protocol error: unauthenticated bulk length"), consumed: pos)
                    }
                    pos = cr + 2
                    bulkLength = length
                }
                // Payload plus its two terminator bytes (which Redis skips without checking).
                // (Subtracted on the left: a `proto-max-bulk-len` up to 2^63-1 admits any length.)
                if end - pos - 2 < bulkLength { return pos }
                if continuing {
                    args.append(Self.copyBytes(raw, from: pos, count: bulkLength))
                } else {
                    // Copied into its slot's array of an earlier batch (see `CommandBatch`).
                    commands.appendArgument(copying: UnsafeRawBufferPointer(rebasing: raw[pos..<(pos + bulkLength)]))
                }
                pendingArgumentBytes += bulkLength + Self.argumentOverhead
                pos += bulkLength + 2
                bulkLength = -1
                argsRemaining -= 1
            }
            if continuing {
                commands.restorePending(from: &args)
                continuing = false
            }
            commands.endCommand()
            pendingArgumentBytes = 0
        }
        return pos
    }

    /// Whether all `count` arguments of the command at `start` are in `raw`, each a `$length`
    /// line of plain digits (`plainDecimal`) within the limits, and its bytes: such a command is
    /// appended in one pass (`CommandBatch.appendCommand(checked:from:count:)`). Anything else
    /// (a command not all read yet, a zero or unusual length, one over a limit, an error) goes
    /// argument by argument below, which answers it as Redis does.
    @inline(__always)
    private func wholeCommandIsPlain(_ raw: UnsafeRawBufferPointer, from start: Int, to end: Int, count: Int) -> Bool {
        let limit = unauthenticated ? Swift.min(maxBulkLength, Self.unauthenticatedBulkLimit) : maxBulkLength
        var p = start
        for _ in 0..<count {
            guard p < end, raw[p] == UInt8(ascii: "$"), let (length, cr) = Self.plainDecimal(raw, from: p + 1, to: end),
                  length <= limit, end - cr - 4 >= length else { return false }
            p = cr + 4 + length
        }
        return true
    }

    /// `string2ll`: optional '-', no '+', no leading zeros, no spaces, fits in Int64.
    private func parseStrictInt(_ raw: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        parseStrictInt64(UnsafeRawBufferPointer(rebasing: raw[from..<to])).map { Int($0) }
    }

    /// One argument's bytes as a new array, copied with memcpy. (Not through
    /// `Array(unsafeUninitializedCapacity:)`: that calls the standard library's unspecialized
    /// allocator, which looks the array's type metadata up in a locked table on every call.)
    @inline(__always)
    static func copyBytes(_ raw: UnsafeRawBufferPointer, from start: Int, count: Int) -> [UInt8] {
        if count == 0 { return [] }
        return Array(UnsafeRawBufferPointer(rebasing: raw[start..<(start + count)]))
    }

    /// The `*count` or `$length` line at `pos`: where its CR is, and its value when it is a plain
    /// one (`plainDecimal`), else nil for the caller to parse by Redis's rules; nil altogether
    /// while no CR has come, and Redis's `tooBig` error once none can come within its limit.
    @inline(__always)
    private static func lengthLine(_ raw: UnsafeRawBufferPointer, from pos: Int, to end: Int, lead: UInt8,
                                   tooBig: String) throws(Failure) -> (plain: Int?, cr: Int)? {
        if pos < end, raw[pos] == lead, let fast = plainDecimal(raw, from: pos + 1, to: end) { return (fast.value, fast.cr) }
        guard let cr = find(UInt8(ascii: "\r"), in: raw, from: pos, to: end) else {
            if end - pos > inlineMaxSize { throw Failure(value: ProtocolError(tooBig), consumed: pos) }
            return nil
        }
        return (nil, cr)
    }

    /// The common length line, read in one pass: digits without sign or leading zero (at most
    /// 18, so no overflow) up to a CR. Returns the value and where the CR is, or nil for
    /// anything else (no CR yet, other bytes, zero), which the general path (memchr, then
    /// Redis's `string2ll` rules) reads instead; where both read a line they agree.
    @inline(__always)
    static func plainDecimal(_ raw: UnsafeRawBufferPointer, from start: Int, to end: Int) -> (value: Int, cr: Int)? {
        guard start < end, raw[start] &- UInt8(ascii: "1") < 9 else { return nil }
        var value = Int(raw[start] &- UInt8(ascii: "0"))
        var i = start + 1
        while i < end && i - start <= 18 {
            let byte = raw[i]
            if byte == UInt8(ascii: "\r") { return (value, i) }
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10, i - start < 18 else { return nil }
            value = value &* 10 &+ Int(digit)
            i += 1
        }
        return nil
    }

    static func find(_ byte: UInt8, in raw: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, let base = raw.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
