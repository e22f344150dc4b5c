import Logging
import ServiceLifecycle
import SomaCore

/// Work done in passes until the service group stops: the expiry sweep, the index repair and the
/// outbox relay. A pass that handled something is logged with its count and, where `drains`, is
/// followed at once by another; otherwise the next pass waits `interval`. A failing pass is logged
/// once per outage (not once per pass) and retried after the interval. Graceful shutdown cancels
/// the wait, so a long interval never holds the process open.
struct PeriodicService: Service, CustomStringConvertible {
    let description: String
    let interval: Duration
    /// Runs another pass at once after one that handled something (the relay drains the outbox).
    var drains = false
    /// Logged with the count after a pass that handled something; nil logs nothing.
    let handled: Logger.Message?
    let logger: Logger
    /// One pass: how many items it handled.
    let pass: @Sendable () async throws -> Int

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        var failing = false
        while !Task.isCancelled {
            do {
                let count = try await pass()
                if failing { logger.info("\(description) works again") }
                failing = false
                if count > 0 {
                    if let handled { logger.info(handled, metadata: ["count": .stringConvertible(count)]) }
                    if drains { continue }
                }
            } catch {
                if !failing { logger.warning("\(description) failed; will retry", metadata: ["error": .string("\(error)")]) }
                failing = true
            }
            try await Task.sleep(for: interval)
        }
    }
}

extension PeriodicService {
    /// Removes expired memories; reads never return them in the meantime.
    static func expirySweep(_ engine: MemoryEngine, every interval: Duration, logger: Logger) -> PeriodicService {
        PeriodicService(description: "expiry sweep", interval: interval, handled: "expired memories removed", logger: logger) {
            try await engine.sweepExpired()
        }
    }

    /// Indexes the memories whose indexing failed (the embedder or the index was down when they
    /// were stored), and after a reindex the ones older processes wrote meanwhile. A store never
    /// waits for this: it succeeds, and its vector follows.
    static func indexRepair(_ engine: MemoryEngine, every interval: Duration, logger: Logger) -> PeriodicService {
        PeriodicService(
            description: "index repair", interval: interval, handled: "memories indexed after a failed or outdated embedding", logger: logger
        ) {
            try await engine.embedPending(notEmbeddedWith: try await engine.repairScope())
        }
    }

    /// Drains the outbox to the bus while it holds events, then polls.
    static func outboxRelay(_ relay: OutboxRelay, idle: Duration = .milliseconds(200), logger: Logger) -> PeriodicService {
        PeriodicService(description: "outbox relay", interval: idle, drains: true, handled: nil, logger: logger) {
            try await relay.relayOnce()
        }
    }
}
