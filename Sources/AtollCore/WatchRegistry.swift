/// `WatchRegistry`: which clients WATCH which keys, so that a write can mark every watcher of
/// the key it touched (their next EXEC then returns the null array). Empty in the common case,
/// which keeps the cost of a write that nobody watches to one check.
import AtollBytes

public struct WatchRegistry {
    private var watchers: [WatchedKey: [ClientSession]] = [:]

    public init() {}

    public var isEmpty: Bool { watchers.isEmpty }
    /// Distinct watched keys (INFO `watched_keys`-style figures).
    public var keyCount: Int { watchers.count }
    /// Clients watching at least one key.
    public var clientCount: Int {
        var seen = Set<ObjectIdentifier>()
        for list in watchers.values { for c in list { seen.insert(ObjectIdentifier(c)) } }
        return seen.count
    }

    /// Adds `key` to `client`'s watches (once), remembering whether it was already expired.
    package mutating func watch(_ key: WatchedKey, by client: ClientSession, expired: Bool) {
        if client.watchedKeys.contains(where: { $0.key == key }) { return }
        client.watchedKeys.append((key, expired))
        watchers[key, default: []].append(client)
    }

    /// Drops every watch of `client` (EXEC, DISCARD, UNWATCH, RESET, disconnect).
    package mutating func unwatchAll(_ client: ClientSession) {
        for (key, _) in client.watchedKeys {
            guard var list = watchers[key] else { continue }
            list.removeAll { $0 === client }
            watchers[key] = list.isEmpty ? nil : list
        }
        client.watchedKeys.removeAll()
        client.watchTouched = false
    }

    /// A write (or an expiry) changed `key`: every client watching it must fail its EXEC.
    /// One exception, as in Redis: a key that was already expired when watched and is now gone
    /// has not logically changed; that watch is simply no longer "expired".
    public func touch(_ key: WatchedKey, exists: () -> Bool) {
        guard !watchers.isEmpty, let list = watchers[key] else { return }
        for client in list {
            if let i = client.watchedKeys.firstIndex(where: { $0.key == key }), client.watchedKeys[i].expiredWhenWatched {
                if !exists() {
                    client.watchedKeys[i].expiredWhenWatched = false
                    continue
                }
            }
            client.watchTouched = true
        }
    }

    /// FLUSHDB / FLUSHALL / SWAPDB: touch the keys watched in `db` for which `exists` holds.
    package func touchAll(inDB db: Int, where exists: (Bytes) -> Bool) {
        for (key, list) in watchers where key.db == db && exists(key.key) {
            for client in list { client.watchTouched = true }
        }
    }
}
