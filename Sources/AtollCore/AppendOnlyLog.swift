/// `AppendOnlyLog`: the append-only file as the dispatcher sees it — whether its last write
/// failed (writes then get MISCONF), and `append(_:)`, which takes the encoded effects of the
/// commands of one lock acquisition (see `ServerCore.feed`) as the lock is released. The file
/// itself (its parts, the manifest, syncing, rewrites) is AtollPersistence's `AppendOnlyFile`,
/// the one subclass.
open class AppendOnlyLog: @unchecked Sendable {
    /// `appendfsync`: when written commands are synced to disk.
    public enum FsyncPolicy: String, Sendable { case always, everysec, no }

    /// Set when a write failed (the bytes are kept and retried); writes are refused meanwhile.
    public package(set) final var writeError: String?

    public init() {}

    /// Writes `bytes` (possibly none: then only what a failed write left, if anything).
    /// Called with the keyspace lock held, before the replies of that acquisition are sent.
    open func append(_ bytes: [UInt8]) {}
}
