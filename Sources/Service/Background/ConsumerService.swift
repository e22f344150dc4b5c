import Foundation
import Logging
import ServiceLifecycle
import SomaCore

/// Consumes memory events as one member of a consumer group and applies them to the vector index.
/// An event is acknowledged only after it was applied; a failure leaves it for redelivery.
public struct ConsumerService: Service, CustomStringConvertible {
    let engine: MemoryEngine
    let group: String
    let logger: Logger

    public init(engine: MemoryEngine, group: String, logger: Logger) {
        self.engine = engine
        self.group = group
        self.logger = logger
    }

    public var description: String { "EventConsumer(\(group))" }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        let consumer = EventConsumer(engine: engine)
        let subscription = try await engine.bus.subscribe(group: group, consumer: "soma-\(getpid())")
        while !Task.isCancelled {
            do {
                guard let delivery = try await subscription.next(timeout: .milliseconds(500)) else { continue }
                do {
                    try await consumer.apply(delivery.event)
                    try await subscription.acknowledge(delivery)
                } catch {
                    logger.warning("event not applied; it will be redelivered", metadata: ["event_id": .string(delivery.event.eventID.uuidString), "error": .string("\(error)")])
                    try? await subscription.reject(delivery)
                    try? await Task.sleep(for: .milliseconds(200))
                }
            } catch {
                logger.warning("event bus unavailable; retrying", metadata: ["error": .string("\(error)")])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
