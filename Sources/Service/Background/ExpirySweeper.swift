import Logging
import ServiceLifecycle
import SomaCore

/// Removes expired memories on an interval. Reads never return them in the meantime.
struct ExpirySweeper: Service, CustomStringConvertible {
    let engine: MemoryEngine
    let interval: Duration
    let logger: Logger

    var description: String { "ExpirySweeper" }

    func run() async throws {
        // Graceful shutdown cancels the loop, so a long sleep never holds the process open.
        try? await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        while !Task.isCancelled {
            do {
                let removed = try await engine.sweepExpired()
                if removed > 0 { logger.info("expired memories removed", metadata: ["count": .stringConvertible(removed)]) }
            } catch {
                logger.warning("expiry sweep failed; will retry", metadata: ["error": .string("\(error)")])
            }
            try await Task.sleep(for: interval)
        }
    }
}
