/// Moves outbox events, oldest first, to the event bus. An event is marked relayed only after
/// the bus accepted it, so a crash between the two sends it again (at least once; consumers
/// are idempotent).
public struct OutboxRelay: Sendable {
    public let storage: any MemoryStorage
    public let bus: any EventBus
    public let batchSize: Int

    public init(storage: any MemoryStorage, bus: any EventBus, batchSize: Int = 256) {
        self.storage = storage
        self.bus = bus
        self.batchSize = batchSize
    }

    /// Relays one batch; returns how many events moved.
    @discardableResult
    public func relayOnce() async throws -> Int {
        let pending = try await backend(.storage) { try await storage.pendingEvents(limit: batchSize) }
        guard !pending.isEmpty else { return 0 }
        try await backend(.bus) { try await bus.publish(pending.map(\.event)) }
        try await backend(.storage) { try await storage.markRelayed(pending.map(\.sequence)) }
        return pending.count
    }
}
