import Logging
import ServiceLifecycle
import SomaCore

/// Indexes, on an interval, the memories whose indexing failed (the embedder or the index was
/// down when they were stored), and after a reindex the ones older processes wrote meanwhile.
/// A store never waits for this: it succeeds, and its vector follows.
struct IndexRepairService: Service, CustomStringConvertible {
    let engine: MemoryEngine
    let interval: Duration
    let logger: Logger

    var description: String { "IndexRepairService" }

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        var failing = false
        while !Task.isCancelled {
            do {
                let repaired = try await engine.embedPending(notEmbeddedWith: try await engine.repairScope())
                if repaired > 0 { logger.info("memories indexed after a failed or outdated embedding", metadata: ["count": .stringConvertible(repaired)]) }
                failing = false
            } catch {
                // One line per outage, not one per pass.
                if !failing { logger.warning("index repair failed; will retry", metadata: ["error": .string("\(error)")]) }
                failing = true
            }
            try await Task.sleep(for: interval)
        }
    }
}
