import Logging
import ServiceLifecycle
import SomaCore

/// Runs the outbox relay: drains the outbox while it has events, then polls.
struct RelayService: Service {
    let relay: OutboxRelay
    let logger: Logger
    var idleDelay: Duration = .milliseconds(200)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if try await relay.relayOnce() > 0 { continue }
            } catch {
                logger.warning("outbox relay failed; will retry", metadata: ["error": .string("\(error)")])
            }
            try? await Task.sleep(for: idleDelay)
        }
    }
}
