/// What the background task measures for INFO between commands: the instantaneous rates at
/// every tick, and once a second the clients' largest buffers and the memory peak.
import AtollCore

extension ServerCore {
    /// Called by the background task at every tick, with the keyspace lock held; `everySecond`
    /// is true once a second.
    public func sampleStatistics(nowMillis: Int64, everySecond: Bool) {
        instantaneous.sample(stats, nowMillis: nowMillis)
        guard everySecond else { return }
        clientBufferPeaks.advance(nowMillis: nowMillis)
        for client in clients.values {
            let figures = ClientFigures(client)
            clientBufferPeaks.note(input: figures.inputBytes, output: figures.outputBytes)
        }
        MemoryFigures.notePeak(self)
    }

    /// Notes the memory in use once the server is set up (INFO `used_memory_startup`).
    public func noteStartupMemory() {
        startupMemory = MemoryFigures.current(self).used
    }
}
