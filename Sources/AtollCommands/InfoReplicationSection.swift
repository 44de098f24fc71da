/// INFO's `# Replication` section with Redis 7.0.15's fields, as a primary or a replica.
import AtollCore

extension InfoSections {
    static func replicationSection(_ server: ServerCore, now: Int64) -> [String] {
        let replication = server.replication
        var lines = ["# Replication"]
        if let master = replication.master {
            let up = master.phase == .connected
            let applied = max(master.appliedOffset, 0)
            lines += ["role:slave", "master_host:\(master.host)", "master_port:\(master.port)",
                      "master_link_status:\(up ? "up" : "down")",
                      "master_last_io_seconds_ago:\(up ? (now - master.lastIOMillis) / 1000 : -1)",
                      "master_sync_in_progress:\(master.phase == .sync ? 1 : 0)",
                      "slave_read_repl_offset:\(applied)", "slave_repl_offset:\(applied)"]
            if !up {
                let down = master.downSinceMillis == 0 ? -1 : (now - master.downSinceMillis) / 1000
                lines.append("master_link_down_since_seconds:\(down)")
            }
            let settings = server.config.storedParameters
            lines += ["slave_priority:\(settings["replica-priority"] ?? "100")",
                      "slave_read_only:\(server.readOnlyReplica ? 1 : 0)",
                      "replica_announced:\(settings["replica-announced"] == "no" ? 0 : 1)"]
        } else {
            lines.append("role:master")
        }
        // Those waiting for their snapshot count, as in Redis.
        let peers = replication.replicas + replication.awaitingSnapshot
        lines.append("connected_slaves:\(peers.count)")
        if server.minGoodReplicas != 0 { lines.append("min_slaves_good_slaves:\(replication.goodReplicas)") }
        for (index, peer) in peers.enumerated() {
            lines.append("slave\(index):ip=\(peer.ip),port=\(peer.listeningPort),state=\(peer.stage.name),offset=\(peer.ackOffset),lag=\(max(0, (now - peer.ackMillis) / 1000))")
        }
        let backlog = replication.backlog
        lines += ["master_failover_state:\(replication.failover.state.rawValue)",
                  "master_replid:\(replication.replid)",
                  "master_replid2:\(replication.replid2)",
                  "master_repl_offset:\(replication.offset)",
                  "second_repl_offset:\(replication.secondOffset)",
                  "repl_backlog_active:\(backlog == nil ? 0 : 1)",
                  "repl_backlog_size:\(server.replicationBacklogSize)",
                  "repl_backlog_first_byte_offset:\(backlog?.firstByteOffset ?? 0)",
                  "repl_backlog_histlen:\(backlog?.histlen ?? 0)"]
        return lines
    }
}
