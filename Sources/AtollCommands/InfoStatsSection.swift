/// INFO's `# Stats` section: Redis 7.0.15's fields in its order, then Atoll's own
/// (`atoll_transactions_*`). The instantaneous rates are sampled by the background task (see
/// `InstantaneousMetrics`); replication's byte rates, client eviction, defragmentation and threaded I/O,
/// which Atoll does not have, count 0.
import AtollCore
import AtollKeyspace

extension InfoSections {
    static func statsSection(_ server: ServerCore, _ keyspace: KeyspaceStats) -> [String] {
        let stats = server.stats
        let rates = server.instantaneous
        let eviction = server.eviction
        let currentExceeded = server.currentEvictionExceededMicros
        func kbps(_ series: InstantaneousMetrics.Series) -> String { format2(Double(series.rate) / 1024) }
        return ["# Stats",
                "total_connections_received:\(stats.totalConnections)",
                "total_commands_processed:\(stats.totalCommands)",
                "instantaneous_ops_per_sec:\(rates.commands.rate)",
                "total_net_input_bytes:\(stats.netInputBytes)",
                "total_net_output_bytes:\(stats.netOutputBytes)",
                "total_net_repl_input_bytes:0",
                "total_net_repl_output_bytes:0",
                "instantaneous_input_kbps:\(kbps(rates.inputBytes))",
                "instantaneous_output_kbps:\(kbps(rates.outputBytes))",
                "instantaneous_input_repl_kbps:0.00",
                "instantaneous_output_repl_kbps:0.00",
                "rejected_connections:\(stats.rejectedConnections)",
                "sync_full:\(server.replication.syncFull)",
                "sync_partial_ok:\(server.replication.syncPartialOK)",
                "sync_partial_err:\(server.replication.syncPartialErr)",
                "expired_keys:\(keyspace.expiredKeys)",
                "expired_stale_perc:\(format2(keyspace.expiredStaleFraction * 100))",
                "expired_time_cap_reached_count:\(keyspace.expiredTimeCapReached)",
                "expire_cycle_cpu_milliseconds:\(keyspace.expireCycleNanoseconds / 1_000_000)",
                "evicted_keys:\(eviction.evictedKeys)",
                "evicted_clients:0",
                "total_eviction_exceeded_time:\((eviction.totalExceededMicros + currentExceeded) / 1000)",
                "current_eviction_exceeded_time:\(currentExceeded / 1000)",
                "keyspace_hits:\(keyspace.keyspaceHits)",
                "keyspace_misses:\(keyspace.keyspaceMisses)",
                "pubsub_channels:\(server.pubsub.channels.count)",
                "pubsub_patterns:\(server.pubsub.patterns.count)",
                "pubsubshard_channels:\(server.pubsub.shardChannels.count)",
                "latest_fork_usec:\(stats.latestForkMicros)",
                "total_forks:\(stats.totalForks)",
                "migrate_cached_sockets:\(server.migrateSockets.count)",
                "slave_expires_tracked_keys:0",
                "active_defrag_hits:0",
                "active_defrag_misses:0",
                "active_defrag_key_hits:0",
                "active_defrag_key_misses:0",
                "total_active_defrag_time:0",
                "current_active_defrag_time:0",
                "tracking_total_keys:\(server.tracking.keyCount)",
                "tracking_total_items:\(server.tracking.items)",
                "tracking_total_prefixes:\(server.tracking.prefixCount)",
                // Errors in replies to a master or an AOF being loaded: none here.
                "unexpected_error_replies:0",
                "total_error_replies:\(stats.totalErrorReplies)",
                // RESTORE checks every payload whole; Redis counts only its optional deep checks.
                "dump_payload_sanitizations:0",
                "total_reads_processed:\(stats.readsProcessed)",
                "total_writes_processed:\(stats.writesProcessed)",
                "io_threaded_reads_processed:0",
                "io_threaded_writes_processed:0",
                "reply_buffer_shrinks:0",
                "reply_buffer_expands:0",
                // Atoll's own: how often optimistic transactions commit or give way.
                "atoll_transactions_executed:\(stats.transactions)",
                "atoll_transactions_aborted_by_watch:\(stats.watchAborts)",
                "atoll_transactions_execabort:\(stats.execAborts)"]
    }
}
