/// Applies memory events to the vector index. It always indexes the record as storage holds it now,
/// so replays, duplicates and out-of-order events are harmless: an older event never puts back an
/// older version, and a memory deleted since is removed from the index.
public struct EventConsumer: Sendable {
    public let engine: MemoryEngine

    public init(engine: MemoryEngine) {
        self.engine = engine
    }

    public func apply(_ event: MemoryEvent) async throws {
        try await apply([event])
    }

    /// Applies a batch: one storage read per namespace, one embedding call and one upsert for the
    /// memories that exist, one delete for those that are gone. Link events change no vector.
    public func apply(_ events: [MemoryEvent]) async throws {
        let changes = events.filter { $0.kind != .linked }
        for (namespace, ids) in Dictionary(grouping: changes, by: \.namespace).mapValues({ Array(Set($0.map(\.id))) }) {
            let current = try await backend(.storage) { try await engine.storage.get(namespace: namespace, ids: ids) }
            try await engine.index(current)
            let gone = Set(ids).subtracting(current.map(\.id))
            if !gone.isEmpty {
                try await backend(.vector) { try await engine.vectors.delete(ids: Array(gone)) }
            }
        }
    }
}
