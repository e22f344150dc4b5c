import Foundation

/// Writes: stores, importance, deletes and the expiry sweep.
extension MemoryEngine {
    public func store(_ draft: MemoryDraft) async throws -> Memory {
        try await store([draft])[0]
    }

    /// Validates every draft first, then writes them all in one storage transaction.
    public func store(_ drafts: [MemoryDraft]) async throws -> [Memory] {
        try await store(drafts, known: [:])
    }

    /// `known`: vectors a backup carried for some drafts (of this embedder's model), used instead of embedding.
    func store(_ drafts: [MemoryDraft], known: [UUID: [Float]]) async throws -> [Memory] {
        guard !drafts.isEmpty else { return [] }
        guard drafts.count <= options.maxBulkItems else {
            throw EngineError.tooLarge("\(drafts.count) items; at most \(options.maxBulkItems) per request")
        }
        let stamped = try drafts.map { draft in
            try validate(draft)
            var draft = draft
            draft.embeddingModel = embedder.modelID
            return draft
        }
        if options.indexSynchronously, let bound = recordBoundVectors {
            return try await storeWithVectors(stamped, into: bound, known: known)
        }
        let stored = try await backend(.storage) { try await storage.upsert(stamped, at: now()) }
        await invalidate(stored, deleted: false)
        if options.indexSynchronously {
            do {
                try await index(stored, known: known)
            } catch {
                // The record stays stored; without a model stamp it is indexed again by the
                // repair pass (`embedPending`) once the embedder and index answer.
                try? await storage.recordEmbedding(stored.map(RecordVersion.init), model: nil)
            }
        }
        return stored
    }

    /// Records and vectors in one transaction. Embedding comes first; when it fails the records are
    /// stored without a model stamp, for the repair pass (`embedPending`) to index once it answers.
    func storeWithVectors(_ drafts: [MemoryDraft], into bound: any RecordBoundVectorIndex, known: [UUID: [Float]] = [:]) async throws -> [Memory] {
        let stored: [Memory]
        if let vectors = try? await embeddings(of: drafts.map { ($0.id, $0.payload) }, known: known) {
            stored = try await backend(.storage) { try await bound.upsert(drafts, vectors: vectors, at: now()) }
        } else {
            let unstamped = drafts.map { draft in
                var draft = draft
                draft.embeddingModel = nil
                return draft
            }
            stored = try await backend(.storage) { try await storage.upsert(unstamped, at: now()) }
        }
        await invalidate(stored, deleted: false)
        return stored
    }

    public func setImportance(namespace: String, coordinate: Coordinate, importance: Double) async throws -> Memory {
        guard importance.isFinite else { throw EngineError.invalid("importance must be a finite number") }
        guard let existing = try await get(namespace: namespace, coordinate: coordinate) else {
            throw EngineError.notFound("no memory at \(coordinate) in namespace \(namespace)")
        }
        var draft = MemoryDraft(
            namespace: namespace, coordinate: coordinate, type: existing.type, payload: existing.payload,
            importance: importance, expiresAt: existing.expiresAt)
        draft.embeddingModel = existing.embeddingModel
        return try await store(draft)
    }

    /// Deletes memories; returns how many existed.
    @discardableResult
    public func delete(namespace: String, coordinates: [Coordinate]) async throws -> Int {
        guard coordinates.count <= options.maxBulkItems else {
            throw EngineError.tooLarge("\(coordinates.count) coordinates; at most \(options.maxBulkItems) per request")
        }
        let deleted = try await backend(.storage) { try await storage.delete(namespace: namespace, coordinates: coordinates, at: now()) }
        await forget(deleted)
        return deleted.count
    }

    /// Removes expired memories from storage, cache and index; returns how many.
    @discardableResult
    public func sweepExpired(limit: Int = 1000) async throws -> Int {
        let expired = try await backend(.storage) { try await storage.deleteExpired(before: now(), limit: limit) }
        await forget(expired)
        return expired.count
    }

    func forget(_ memories: [Memory]) async {
        guard !memories.isEmpty else { return }
        await invalidate(memories, deleted: true)
        if options.indexSynchronously {
            try? await vectors.delete(ids: memories.map(\.id))
        }
    }
}
