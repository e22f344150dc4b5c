/// Applies memory events to the vector index. It always indexes the record as storage holds it now,
/// so replays, duplicates and out-of-order events are harmless: an older event never puts back an
/// older version, and a memory deleted since is removed from the index.
public struct EventConsumer: Sendable {
    public let engine: MemoryEngine

    public init(engine: MemoryEngine) {
        self.engine = engine
    }

    public func apply(_ event: MemoryEvent) async throws {
        switch event.kind {
        case .linked:
            return
        case .created, .updated, .deleted:
            let current = try await backend(.storage) { try await engine.storage.get(namespace: event.namespace, ids: [event.id]) }
            if let memory = current.first {
                try await engine.index([memory])
            } else {
                try await backend(.vector) { try await engine.vectors.delete(ids: [event.id]) }
            }
        }
    }
}
