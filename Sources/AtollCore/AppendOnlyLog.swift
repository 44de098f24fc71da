/// `AppendOnlyLog`: the append-only file as the dispatcher sees it — the feed commands record
/// their effects in, whether its last write failed (writes then get MISCONF), and `flush()`,
/// which writes the feed as the keyspace lock is released. The file itself (its parts, the
/// manifest, syncing, rewrites) is AtollPersistence's `AppendOnlyFile`, the one subclass.
///
/// A class to subclass rather than a protocol: the dispatcher and `CommandContext` touch
/// `feed` on every write command, and a stored property of a class is reached directly, where
/// a protocol's would go through a witness call each time. `flush()` runs once per lock
/// acquisition.
open class AppendOnlyLog: @unchecked Sendable {
    /// `appendfsync`: when written commands are synced to disk.
    public enum FsyncPolicy: String, Sendable { case always, everysec, no }

    /// Effects of the commands run since the last flush.
    public final var feed = AppendOnlyFeed()
    /// Set when a write failed (the bytes are kept and retried); writes are refused meanwhile.
    public package(set) final var writeError: String?

    public init() {}

    /// Writes what the feed holds. Called with the keyspace lock held, before the replies of
    /// that acquisition are sent.
    open func flush() {}
}
