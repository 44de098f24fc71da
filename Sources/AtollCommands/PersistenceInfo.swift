/// INFO's persistence section, with the fields Redis 7.0 reports (and clients and monitoring
/// read) in Redis's order; the append-only file's sizes appear only while it is on.
import AtollCore
import AtollPersistence

extension InfoSections {
    static func persistenceSection(_ server: ServerCore, now: Int64) -> [String] {
        let state = server.persistence
        let child = state.child
        let saving = child?.job == .snapshot
        let rewriting = child?.job == .rewrite
        let elapsed = child.map { String((now - $0.startedAt) / 1000) } ?? "-1"
        var lines = ["# Persistence",
                     "loading:\(server.loading ? 1 : 0)",
                     "async_loading:0",
                     "current_cow_peak:0",
                     "current_cow_size:0",
                     "current_cow_size_age:0",
                     "current_fork_perc:0.00",
                     "current_save_keys_processed:0",
                     "current_save_keys_total:0",
                     "rdb_changes_since_last_save:\(server.dirty)",
                     "rdb_bgsave_in_progress:\(saving ? 1 : 0)",
                     "rdb_last_save_time:\(server.lastSave)",
                     "rdb_last_bgsave_status:\(state.lastBgsaveOK ? "ok" : "err")",
                     "rdb_last_bgsave_time_sec:\(state.lastBgsaveSeconds)",
                     "rdb_current_bgsave_time_sec:\(saving ? elapsed : "-1")",
                     "rdb_saves:\(state.rdbSaves)",
                     "rdb_last_cow_size:0",
                     "rdb_last_load_keys_expired:0",
                     "rdb_last_load_keys_loaded:0",
                     "aof_enabled:\(server.aof == nil ? 0 : 1)",
                     "aof_rewrite_in_progress:\(rewriting ? 1 : 0)",
                     "aof_rewrite_scheduled:\(state.rewriteScheduled ? 1 : 0)",
                     "aof_last_rewrite_time_sec:\(state.lastRewriteSeconds)",
                     "aof_current_rewrite_time_sec:\(rewriting ? elapsed : "-1")",
                     "aof_last_bgrewrite_status:\(state.lastRewriteOK ? "ok" : "err")",
                     "aof_rewrites:\(state.rewrites)",
                     "aof_rewrites_consecutive_failures:\(state.rewriteFailures)",
                     "aof_last_write_status:\(server.aof?.writeError == nil ? "ok" : "err")",
                     "aof_last_cow_size:0",
                     "module_fork_in_progress:0",
                     "module_fork_last_cow_size:0"]
        if let aof = server.appendOnlyFile {
            lines += ["aof_current_size:\(aof.currentSize)",
                      "aof_base_size:\(aof.baseSize)",
                      "aof_pending_rewrite:\(state.rewriteScheduled ? 1 : 0)",
                      "aof_buffer_length:\(server.feed?.bytes.count ?? 0)",
                      "aof_pending_bio_fsync:0",
                      "aof_delayed_fsync:0"]
        }
        return lines
    }
}
