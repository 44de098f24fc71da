/// Client-side caching commands: CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO. The
/// table, the invalidations and their delivery are in AtollCore's Tracking.swift.
import AtollBytes
import AtollCore
import AtollKeyspace
import AtollRESP

enum TrackingCommands {
    static let commands: [CommandBinding] = [
        .init("client|tracking", .keepsCachingChoice, tracking),
        .init("client|caching", .keepsCachingChoice, caching),
        .init("client|getredir", .keepsCachingChoice, getredir),
        .init("client|trackinginfo", .keepsCachingChoice, trackinginfo),
    ]

    /// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP],
    /// with Redis's checks in Redis's order.
    static func tracking(_ c: inout CommandContext) {
        var requested = ClientTracking()
        var redirect: Int64?
        var prefixes: [[UInt8]] = []
        var j = 3
        while j < c.args.count {
            let more = j + 1 < c.args.count
            if c.argIs(j, "redirect") && more {
                j += 1
                if redirect != nil { return c.out.error("ERR A client can only redirect to a single other client") }
                guard let id = c.integerArgument(j) else { return }
                guard c.server.clients[id] != nil else {
                    return c.out.error("ERR The client ID you want redirect to does not exist")
                }
                redirect = id
            } else if c.argIs(j, "bcast") {
                requested.bcast = true
            } else if c.argIs(j, "optin") {
                requested.optin = true
            } else if c.argIs(j, "optout") {
                requested.optout = true
            } else if c.argIs(j, "noloop") {
                requested.noloop = true
            } else if c.argIs(j, "prefix") && more {
                j += 1
                prefixes.append(c.args[j])
            } else {
                return c.syntaxError()
            }
            j += 1
        }
        if c.argIs(2, "off") {
            c.server.disableTracking(c.client)
            return c.out.ok()
        }
        guard c.argIs(2, "on") else { return c.syntaxError() }
        let current = c.client.tracking
        if !requested.bcast && !prefixes.isEmpty { return c.out.error("ERR PREFIX option requires BCAST mode to be enabled") }
        if let current, current.bcast != requested.bcast {
            return c.out.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
        }
        if requested.bcast && (requested.optin || requested.optout) {
            return c.out.error("ERR OPTIN and OPTOUT are not compatible with BCAST")
        }
        if requested.optin && requested.optout { return c.out.error("ERR You can't specify both OPTIN mode and OPTOUT mode") }
        if let current, (requested.optin && current.optout) || (requested.optout && current.optin) {
            return c.out.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
        }
        if requested.bcast {
            if let overlap = firstOverlap(prefixes, existing: current?.prefixes.map(\.array) ?? []) {
                return c.out.error("ERR " + overlap)
            }
            // Prefixes add up over calls; BCAST without one tracks every key (the empty prefix).
            var all = current?.prefixes ?? []
            for prefix in (prefixes.isEmpty ? [[]] : prefixes) where !all.contains(Bytes(prefix)) { all.append(Bytes(prefix)) }
            requested.prefixes = all
        }
        requested.redirect = redirect ?? 0
        requested.caching = current?.caching
        c.server.enableTracking(c.client, requested)
        c.out.ok()
    }

    /// Redis's prefix collision check: a new prefix against the client's own, then against the
    /// other new ones; the error text, or nil.
    private static func firstOverlap(_ prefixes: [[UInt8]], existing: [[UInt8]]) -> String? {
        func overlaps(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.starts(with: b) || b.starts(with: a) }
        func text(_ bytes: [UInt8]) -> String { cText(bytes, max: Int.max) }
        for (i, prefix) in prefixes.enumerated() {
            if let old = existing.sorted(by: { compareBytes($0, $1) < 0 }).first(where: { overlaps($0, prefix) && $0 != prefix }) {
                return "Prefix '\(text(prefix))' overlaps with an existing prefix '\(text(old))'. Prefixes for a single client must not overlap."
            }
            for other in prefixes[(i + 1)...] where overlaps(prefix, other) {
                return "Prefix '\(text(prefix))' overlaps with another provided prefix '\(text(other))'. Prefixes for a single client must not overlap."
            }
        }
        return nil
    }

    static func caching(_ c: inout CommandContext) {
        guard let tracking = c.client.tracking else {
            return c.out.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
        }
        if c.argIs(2, "yes") {
            guard tracking.optin else { return c.out.error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.") }
            c.client.tracking?.caching = true
        } else if c.argIs(2, "no") {
            guard tracking.optout else { return c.out.error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.") }
            c.client.tracking?.caching = false
        } else {
            return c.syntaxError()
        }
        c.out.ok()
    }

    static func getredir(_ c: inout CommandContext) {
        c.out.integer(c.client.tracking?.redirect ?? -1)
    }

    static func trackinginfo(_ c: inout CommandContext) {
        let tracking = c.client.tracking
        var flags = [tracking == nil ? "off" : "on"]
        if let tracking {
            if tracking.bcast { flags.append("bcast") }
            if tracking.optin {
                flags.append("optin")
                if tracking.caching == true { flags.append("caching-yes") }
            }
            if tracking.optout {
                flags.append("optout")
                if tracking.caching == false { flags.append("caching-no") }
            }
            if tracking.noloop { flags.append("noloop") }
            if tracking.brokenRedirect { flags.append("broken_redirect") }
        }
        c.out.mapHeader(3)
        c.out.bulk("flags")
        c.out.setHeader(flags.count)
        for flag in flags { c.out.bulk(flag) }
        c.out.bulk("redirect")
        c.out.integer(tracking?.redirect ?? -1)
        c.out.bulk("prefixes")
        let prefixes = (tracking?.prefixes ?? []).sorted()
        c.out.arrayHeader(prefixes.count)
        for prefix in prefixes { c.out.bulk(prefix.array) }
    }
}
