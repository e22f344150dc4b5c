import Foundation

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
        try await storeOriginals(events.filter { $0.originalDraft != nil })
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

    /// Writes what the original's events announce: created and updated memories are stored
    /// unless storage already holds the same content (so a replay changes nothing twice), deleted
    /// ones deleted. Indexing then follows as for any event.
    private func storeOriginals(_ events: [MemoryEvent]) async throws {
        guard !events.isEmpty else { return }
        for (namespace, inNamespace) in Dictionary(grouping: events, by: \.namespace) {
            let current = try await backend(.storage) { try await engine.storage.get(namespace: namespace, ids: inNamespace.map(\.id)) }
            let held = Dictionary(current.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            var latest: [UUID: MemoryEvent] = [:]
            for event in inNamespace { latest[event.id] = event }  // in delivery order: the last one wins
            let writes = latest.values.filter { $0.kind != .deleted }.compactMap(\.originalDraft).filter { draft in
                guard let memory = held[MemoryID.make(namespace: namespace, coordinate: draft.coordinate)] else { return true }
                return !memory.holds(draft)
            }
            _ = try await engine.store(writes)
            let deletions = latest.values.filter { $0.kind == .deleted }.compactMap(\.originalDraft?.coordinate)
            if !deletions.isEmpty { _ = try await engine.delete(namespace: namespace, coordinates: deletions) }
        }
    }
}
