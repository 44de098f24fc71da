/// The memory figures INFO's `# Memory` section reports, measured as Atoll can: `used_memory`
/// is what the counting malloc wrapper counts in use less the key tables' free slots (see
/// `ServerCore.usedMemory`, the figure `maxmemory` is compared with; the resident size where
/// glibc is not there), `allocator_active` what it holds from the
/// system, `allocator_resident` and `used_memory_rss` the process's resident size. The
/// overhead is Atoll's own count: the memory at start, the clients' buffers, the append-only
/// file's buffer and the key tables' entries.
import AtollCore
import AtollKeyspace
import CAllocator
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One reading of the process's memory.
struct MemoryFigures {
    /// Bytes allocated and in use.
    let used: Int
    /// Bytes the allocator holds from the system.
    let active: Int
    /// The process's resident size.
    let resident: Int

    /// Reads the allocator's and the system's figures now.
    static func current(_ server: ServerCore) -> MemoryFigures {
        var inUse: UInt64 = 0, held: UInt64 = 0
        atoll_allocator_usage(&inUse, &held)
        let resident = InfoSections.residentBytes()
        guard inUse > 0 else { return MemoryFigures(used: resident, active: resident, resident: resident) }
        return MemoryFigures(used: server.usedMemory, active: Int(held), resident: resident)
    }

    /// The memory of the machine (INFO `total_system_memory`).
    static func systemMemory() -> Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Used memory now, noted as the peak when it is one.
    static func noteUsed(_ server: ServerCore) -> MemoryFigures {
        let figures = current(server)
        notePeak(server, used: figures.used)
        return figures
    }

    /// Notes used memory as the peak when it is one, reading only the counting wrapper's
    /// total where there is one: `mallinfo2` (for `current`'s other figures) walks every free
    /// block of the heap, which the background task's once-a-second sample paid for, a few
    /// percent of the server's CPU with a large and fragmented heap.
    static func notePeak(_ server: ServerCore) {
        notePeak(server, used: atoll_allocator_counted_bytes() >= 0 ? server.usedMemory : current(server).used)
    }

    private static func notePeak(_ server: ServerCore, used: Int) {
        if used > server.stats.peakMemory { server.stats.peakMemory = used }
    }

    /// The bytes Atoll counts as overhead rather than data: see the file's comment.
    static func overhead(_ server: ServerCore, clients: Int, aofBuffer: Int) -> Int {
        var tables = 0
        for db in server.keyspace.databases { tables += (db.count + db.expiresCount) * MemoryCommands.entryBytes }
        return server.startupMemory + clients + aofBuffer + tables
    }
}
