/// Client-side caching (Redis's tracking.c): which clients read which keys, and the
/// invalidation messages a write sends them.
///
/// - Default mode: the keys a tracking client's read-only commands read are remembered in one
///   table (by name, across databases, as in Redis); the first write to such a key sends each
///   reader one invalidation and forgets it. OPTIN remembers only after CLIENT CACHING YES,
///   OPTOUT not after CLIENT CACHING NO.
/// - BCAST: every write to a key under one of the client's prefixes is collected, and the keys
///   of one batch of commands go out as one message per client, in byte order, as Redis sends
///   them before it sleeps.
/// - NOLOOP: no invalidation for keys the client changed itself. REDIRECT: messages go to
///   another connection (as `__redis__:invalidate` messages to a RESP2 one in subscribed mode).
///
/// A client's own invalidations wait until its command's reply is written (Redis 7.0's
/// pending keys); other clients' go through their outbox, like Pub/Sub messages.
import AtollBytes
import AtollRESP
import NIOCore

/// A client's tracking settings; nil on the session while tracking is off.
public struct ClientTracking: Sendable {
    public var bcast = false
    public var optin = false
    public var optout = false
    public var noloop = false
    /// The id of the connection that receives the invalidations; 0 for the client itself.
    public var redirect: Int64 = 0
    public var prefixes: [Bytes] = []
    /// CLIENT CACHING's choice for the next command (YES under OPTIN, NO under OPTOUT).
    public var caching: Bool?
    /// The redirect target went away (CLIENT TRACKINGINFO `broken_redirect`).
    public var brokenRedirect = false

    public init() {}

    /// Whether a read by the command now running is remembered (default mode only).
    var remembersReads: Bool {
        if bcast { return false }
        if optin { return caching == true }
        if optout { return caching != false }
        return true
    }
}

public final class TrackingRegistry: @unchecked Sendable {
    /// Keys read by tracking clients in default mode, and the ids of their readers.
    private(set) var table: [Bytes: Set<Int64>] = [:]
    /// Reader entries over all keys (INFO `tracking_total_items`).
    public private(set) var items = 0
    /// BCAST prefixes: their clients, and the keys written since the last broadcast with the
    /// id of the client that wrote each last (0: none, expiry), as Redis's NOLOOP reads it.
    private(set) var prefixes: [Bytes: (clients: [ClientSession], pending: [Bytes: Int64])] = [:]
    private var prefixesWithPending: Set<Bytes> = []
    /// Clients with tracking on (INFO `tracking_clients`). Unchecked (`@exclusivity`): read by
    /// every write through `isActive`, only under the keyspace lock.
    @exclusivity(unchecked) public private(set) var clients = 0

    public init() {}

    /// One test per write while nobody tracks anything.
    @inlinable public var isActive: Bool { clients > 0 }

    public var keyCount: Int { table.count }
    public var prefixCount: Int { prefixes.count }
    var hasPendingBroadcasts: Bool { !prefixesWithPending.isEmpty }

    func enabled(_ client: ClientSession, _ settings: ClientTracking) {
        if client.tracking == nil { clients += 1 }
        client.tracking = settings
        for prefix in settings.prefixes where settings.bcast {
            if prefixes[prefix]?.clients.contains(where: { $0 === client }) == true { continue }
            prefixes[prefix, default: ([], [:])].clients.append(client)
        }
    }

    /// Tracking off (CLIENT TRACKING OFF, RESET, a client gone). Its default-mode entries stay
    /// in the table until their keys change, as in Redis, and are skipped then.
    func disabled(_ client: ClientSession) {
        guard let settings = client.tracking else { return }
        clients -= 1
        for prefix in settings.prefixes {
            prefixes[prefix]?.clients.removeAll { $0 === client }
            if prefixes[prefix]?.clients.isEmpty == true {
                prefixes[prefix] = nil
                prefixesWithPending.remove(prefix)
            }
        }
        client.tracking = nil
    }

    func remember(_ key: Bytes, reader: Int64) {
        if table[key] == nil { evictionCandidates.append(key) }
        if table[key, default: []].insert(reader).inserted { items += 1 }
    }

    /// Keys as they entered the table, for picking one at random when it is over its limit;
    /// keys gone from the table are dropped from here lazily.
    private var evictionCandidates: [Bytes] = []
    /// Rounds in a row that ended still over the limit (Redis's growing effort).
    var evictionRounds = 0

    /// A key of the table picked at random (nil when it is empty).
    func randomKey(using rng: inout some RandomNumberGenerator) -> Bytes? {
        if evictionCandidates.count > 2 * table.count + 64 { evictionCandidates.removeAll { table[$0] == nil } }
        while !evictionCandidates.isEmpty {
            let i = Int.random(in: 0..<evictionCandidates.count, using: &rng)
            let key = evictionCandidates[i]
            if table[key] != nil { return key }
            evictionCandidates.swapAt(i, evictionCandidates.count - 1)
            evictionCandidates.removeLast()
        }
        return nil
    }

    /// The readers of `key`, forgetting them.
    func takeReaders(_ key: Bytes) -> Set<Int64>? {
        guard let readers = table.removeValue(forKey: key) else { return nil }
        items -= readers.count
        return readers
    }

    /// Records a write of `key` for the BCAST prefixes it falls under.
    func noteForBroadcast(_ key: Bytes, writer: Int64) {
        let bytes = key.array
        for prefix in prefixes.keys where bytes.starts(with: prefix.array) {
            prefixes[prefix]!.pending[key] = writer
            prefixesWithPending.insert(prefix)
        }
    }

    /// Takes the keys collected per prefix since the last broadcast.
    func takePendingBroadcasts() -> [(clients: [ClientSession], keys: [Bytes: Int64])] {
        var out: [(clients: [ClientSession], keys: [Bytes: Int64])] = []
        for prefix in prefixesWithPending {
            guard let entry = prefixes[prefix] else { continue }
            out.append((entry.clients, entry.pending))
            prefixes[prefix]!.pending = [:]
        }
        prefixesWithPending.removeAll()
        return out
    }

    /// FLUSHALL / FLUSHDB: the table is emptied.
    func clearTable() {
        table.removeAll()
        evictionCandidates.removeAll()
        items = 0
    }
}

extension ServerCore {
    /// Turns tracking on for `client` with `settings` (validated by CLIENT TRACKING).
    public func enableTracking(_ client: ClientSession, _ settings: ClientTracking) {
        tracking.enabled(client, settings)
    }

    public func disableTracking(_ client: ClientSession) {
        tracking.disabled(client)
    }

    /// Remembers the keys a read-only command read for its reader (default mode). For a read a
    /// script makes, the reader is the script's caller and the keys are those of the caller's
    /// command (the script's declared KEYS), as Redis 7.0 does; keys a script reads without
    /// declaring them are not remembered. The script commands themselves (EVAL_RO, FCALL_RO)
    /// are not read commands here, as in Redis.
    func rememberReads(_ spec: CommandSpec, _ args: [[UInt8]], client: ClientSession) {
        guard !spec.runsScript else { return }
        if client.isScriptClient {
            guard let reader = trackingCaller, let (callerSpec, callerArgs) = trackingCommand else { return }
            remember(callerSpec, callerArgs, for: reader)
        } else {
            remember(spec, args, for: client)
        }
    }

    private func remember(_ spec: CommandSpec, _ args: [[UInt8]], for reader: ClientSession) {
        guard let settings = reader.tracking, settings.remembersReads, let indices = spec.keyIndices(args) else { return }
        for i in indices where i < args.count { tracking.remember(Bytes(args[i]), reader: reader.id) }
    }

    /// Redis's `trackingLimitUsedSlots`: while the table holds more keys than
    /// `tracking-table-max-keys`, forgets keys at random, each with an invalidation to its
    /// readers, with an effort that grows while a round ends still over the limit.
    public func limitTrackingTable() {
        let max = config.trackingTableMaxKeys
        guard max > 0, tracking.keyCount > max else {
            tracking.evictionRounds = 0
            return
        }
        var effort = 100 * (tracking.evictionRounds + 1)
        var rng = SystemRandomNumberGenerator()
        while effort > 0, let key = tracking.randomKey(using: &rng) {
            effort -= 1
            invalidate(key, writer: nil, broadcast: false)
            if tracking.keyCount <= max {
                tracking.evictionRounds = 0
                return
            }
        }
        tracking.evictionRounds += 1
    }

    /// `key` changed (or expired, or was deleted): its default-mode readers are sent an
    /// invalidation, and BCAST prefixes covering it collect it. `writer` is the client whose
    /// command changed it (nil for expiry).
    public func invalidate(_ key: Bytes, writer: ClientSession?, broadcast: Bool = true) {
        if broadcast && tracking.prefixCount > 0 { tracking.noteForBroadcast(key, writer: writer?.id ?? 0) }
        guard let readers = tracking.takeReaders(key) else { return }
        for id in readers {
            guard let reader = clients[id], let settings = reader.tracking, !settings.bcast else { continue }
            if settings.noloop && reader === writer { continue }
            sendInvalidation(to: reader, payload: .keys([key]), writer: writer)
        }
    }

    /// Sends every BCAST client the keys written under its prefixes since the last call (after
    /// each batch of commands, and after expiry).
    public func broadcastInvalidations() {
        guard tracking.hasPendingBroadcasts else { return }
        for (subscribers, keys) in tracking.takePendingBroadcasts() {
            let ordered = keys.keys.sorted()
            for client in subscribers {
                let noloop = client.tracking?.noloop ?? false
                let sent = noloop ? ordered.filter { keys[$0] != client.id } : ordered
                if !sent.isEmpty { sendInvalidation(to: client, payload: .keys(sent), writer: nil) }
            }
        }
    }

    /// FLUSHALL / FLUSHDB: every tracking client is told everything is invalid, and the table
    /// is emptied.
    public func invalidateAllTracked(writer: ClientSession?) {
        if tracking.isActive {
            for client in clients.values.sorted(by: { $0.id < $1.id }) where client.tracking != nil {
                sendInvalidation(to: client, payload: .all, writer: writer)
            }
        }
        // Emptied even with nobody tracking now: readers that left keep entries until then.
        tracking.clearTable()
    }

    enum InvalidationPayload {
        case keys([Bytes])
        /// Everything (a flush): a null in place of the keys.
        case all
    }

    /// Redis's `sendTrackingMessage`: to the client, or to its redirect target.
    private func sendInvalidation(to client: ClientSession, payload: InvalidationPayload, writer: ClientSession?) {
        guard let settings = client.tracking else { return }
        var target = client
        if settings.redirect != 0 {
            guard let redirected = clients[settings.redirect] else {
                if !settings.brokenRedirect {
                    client.tracking?.brokenRedirect = true
                    if client.resp3 {
                        var w = ReplyWriter(buffer: ByteBuffer(), resp3: true)
                        w.pushHeader(2)
                        w.staticBulk("tracking-redir-broken")
                        w.integer(settings.redirect)
                        pushOutOfBand(Array(w.buffer.readableBytesView), to: client, writer: writer)
                    }
                }
                return
            }
            target = redirected
        }
        var w = ReplyWriter(buffer: ByteBuffer(), resp3: target.resp3)
        if target.resp3 {
            w.pushHeader(2)
            w.staticBulk("invalidate")
        } else if settings.redirect != 0 && target.subscriptions != nil {
            w.arrayHeader(3)
            w.staticBulk("message")
            w.staticBulk("__redis__:invalidate")
        } else {
            // RESP2 without a redirect to a subscribed connection: nowhere to send it.
            return
        }
        switch payload {
        case .all:
            w.null()
        case .keys(let keys):
            w.arrayHeader(keys.count)
            for key in keys { key.withUnsafeBytes { w.bulk($0) } }
        }
        pushOutOfBand(Array(w.buffer.readableBytesView), to: target, writer: writer)
    }

    /// To the writer itself after its command's reply; to others through their outbox.
    private func pushOutOfBand(_ bytes: [UInt8], to target: ClientSession, writer: ClientSession?) {
        if target === writer {
            target.pendingAfterReply += bytes
            return
        }
        pushToOutbox(bytes.count, of: target, as: target.subscriptions == nil ? .normal : .pubsub, now: clock.nowMillis()) {
            $0.writeBytes(bytes)
        }
    }
}
