import Logging
import ServiceLifecycle
import SomaCore

/// Runs the outbox relay: drains the outbox while it has events, then polls.
struct RelayService: Service, CustomStringConvertible {
    let relay: OutboxRelay
    let logger: Logger
    var idleDelay: Duration = .milliseconds(200)

    var description: String { "OutboxRelay" }

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        while !Task.isCancelled {
            do {
                if try await relay.relayOnce() > 0 { continue }
            } catch {
                logger.warning("outbox relay failed; will retry", metadata: ["error": .string("\(error)")])
            }
            try await Task.sleep(for: idleDelay)
        }
    }
}
