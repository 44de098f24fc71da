/// INFO's `# Memory` section: Redis 7.0.15's fields in its order. Atoll is built on glibc's
/// malloc, not jemalloc, so the allocator figures are glibc's (see `MemoryFigures`); Atoll has
/// one Lua interpreter for scripts and functions (`used_memory_vm_eval` is all of it), no
/// replication, no cluster, no defragmentation and no lazy freeing, whose fields are 0.
import AtollCore
import AtollKeyspace
import AtollLua
import AtollScripting

extension InfoSections {
    static func memorySection(_ server: ServerCore) -> [String] {
        let memory = MemoryFigures.noteUsed(server)
        let used = memory.used, rss = memory.resident
        let peak = max(server.stats.peakMemory, used)
        let clients = server.clients.values.reduce(0) { $0 + ClientFigures($1).totalBytes }
        let aofBuffer = server.memoryNotCountedForEviction
        let maxMemory = server.config.maxMemory
        let overhead = MemoryFigures.overhead(server, clients: clients, aofBuffer: aofBuffer)
        let startup = server.startupMemory
        let dataset = max(used - overhead, 0)
        let engine = server.scripting.engine
        let lua = engine.memoryUsed
        let scriptsEval = engine.scripts.values.reduce(0) { $0 + $1.body.count + 40 }
        let functions = engine.libraries.values.reduce(0) { $0 + $1.code.count + $1.name.utf8.count }
            + engine.functions.keys.reduce(0) { $0 + $1.utf8.count }
        let system = MemoryFigures.systemMemory()
        func ratio(_ a: Int, _ b: Int) -> String { b > 0 ? format2(Double(a) / Double(b)) : "0.00" }
        func percent(_ a: Int, _ b: Int) -> String { (b > 0 ? format2(Double(a) * 100 / Double(b)) : "0.00") + "%" }
        return ["# Memory",
                "used_memory:\(used)",
                "used_memory_human:\(humanBytes(used))",
                "used_memory_rss:\(rss)",
                "used_memory_rss_human:\(humanBytes(rss))",
                "used_memory_peak:\(peak)",
                "used_memory_peak_human:\(humanBytes(peak))",
                "used_memory_peak_perc:\(percent(used, peak))",
                "used_memory_overhead:\(overhead)",
                "used_memory_startup:\(startup)",
                "used_memory_dataset:\(dataset)",
                "used_memory_dataset_perc:\(percent(dataset, used - startup))",
                "allocator_allocated:\(used)",
                "allocator_active:\(memory.active)",
                "allocator_resident:\(rss)",
                "total_system_memory:\(system)",
                "total_system_memory_human:\(humanBytes(system))",
                "used_memory_lua:\(lua)",
                "used_memory_vm_eval:\(lua)",
                "used_memory_lua_human:\(humanBytes(lua))",
                "used_memory_scripts_eval:\(scriptsEval)",
                "number_of_cached_scripts:\(engine.scripts.count)",
                "number_of_functions:\(engine.functions.count)",
                "number_of_libraries:\(engine.libraries.count)",
                "used_memory_vm_functions:0",
                "used_memory_vm_total:\(lua)",
                "used_memory_vm_total_human:\(humanBytes(lua))",
                "used_memory_functions:\(functions)",
                "used_memory_scripts:\(scriptsEval + functions)",
                "used_memory_scripts_human:\(humanBytes(scriptsEval + functions))",
                "maxmemory:\(maxMemory)",
                "maxmemory_human:\(humanBytes(Int(clamping: maxMemory)))",
                "maxmemory_policy:\(server.config.maxMemoryPolicy.rawValue)",
                "allocator_frag_ratio:\(ratio(memory.active, used))",
                "allocator_frag_bytes:\(memory.active - used)",
                "allocator_rss_ratio:\(ratio(rss, memory.active))",
                "allocator_rss_bytes:\(rss - memory.active)",
                "rss_overhead_ratio:1.00",
                "rss_overhead_bytes:0",
                "mem_fragmentation_ratio:\(ratio(rss, used))",
                "mem_fragmentation_bytes:\(rss - used)",
                "mem_not_counted_for_evict:\(aofBuffer)",
                "mem_replication_backlog:0",
                "mem_total_replication_buffers:0",
                "mem_clients_slaves:0",
                "mem_clients_normal:\(clients)",
                "mem_cluster_links:0",
                "mem_aof_buffer:\(aofBuffer)",
                "mem_allocator:libc",
                "active_defrag_running:0",
                "lazyfree_pending_objects:0",
                "lazyfreed_objects:0"]
    }
}
