import Synchronization

/// Moves outbox events, oldest first, to the event bus. An event is marked relayed only after
/// the bus accepted it, so a crash between the two sends it again (at least once; consumers
/// are idempotent). A volatile bus (this process's memory) has not kept an event until its
/// readers acknowledged it: only then does the event leave the outbox.
public final class OutboxRelay: Sendable {
    public let storage: any MemoryStorage
    public let bus: any EventBus
    public let batchSize: Int
    /// Events on a volatile bus not yet acknowledged: outbox sequence and bus offset, oldest first.
    private let unacknowledged = Mutex<[(sequence: Int64, offset: Int)]>([])

    public init(storage: any MemoryStorage, bus: any EventBus, batchSize: Int = 256) {
        self.storage = storage
        self.bus = bus
        self.batchSize = batchSize
    }

    /// Relays one batch; returns how many events moved.
    @discardableResult
    public func relayOnce() async throws -> Int {
        if let volatile = bus.volatileLog { return try await relayUntilAcknowledged(volatile) }
        let pending = try await backend(.storage) { try await storage.pendingEvents(limit: batchSize) }
        guard !pending.isEmpty else { return 0 }
        try await backend(.bus) { try await bus.publish(pending.map(\.event)) }
        try await backend(.storage) { try await storage.markRelayed(pending.map(\.sequence)) }
        return pending.count
    }

    /// Marks relayed what the bus's readers have acknowledged, then publishes outbox events not
    /// yet on the bus (the outbox keeps returning the ones still waiting: the oldest come first).
    private func relayUntilAcknowledged(_ bus: any VolatileEventBus) async throws -> Int {
        let below = bus.acknowledgedBelow() ?? Int.min
        let acknowledged = unacknowledged.withLock { $0.filter { $0.offset < below }.map(\.sequence) }
        if !acknowledged.isEmpty {
            try await backend(.storage) { try await storage.markRelayed(acknowledged) }
            unacknowledged.withLock { $0.removeAll { $0.offset < below } }
        }
        let pending = try await backend(.storage) { try await storage.pendingEvents(limit: batchSize) }
        let waiting = Set(unacknowledged.withLock { $0.map(\.sequence) })
        let fresh = pending.filter { !waiting.contains($0.sequence) }
        if !fresh.isEmpty {
            let offsets = try await backend(.bus) { try await bus.publishTracked(fresh.map(\.event)) }
            unacknowledged.withLock { $0 += zip(fresh, offsets).map { (sequence: $0.sequence, offset: $1) } }
        }
        return acknowledged.count + fresh.count
    }
}
