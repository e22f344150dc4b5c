import Foundation

extension MemoryEngine {
    /// Embeds and indexes the records that need it, `batchSize` at a time, in one walk over storage,
    /// stamping each with the embedder's model: with `model` nil, records whose indexing failed;
    /// otherwise every record not embedded with `model`. A record that changes meanwhile keeps its
    /// own stamp and is found again by the next walk. Returns how many records were indexed.
    @discardableResult
    public func embedPending(notEmbeddedWith model: String?, batchSize: Int = 256, progress: @Sendable (Int) -> Void = { _ in }) async throws -> Int {
        var cursor: UUID?
        var done = 0
        while true {
            let batch = try await backend(.storage) {
                try await storage.memoriesToEmbed(notEmbeddedWith: model, after: cursor, limit: batchSize)
            }
            guard let last = batch.last else { return done }
            let live = batch.filter { !$0.isExpired(at: now()) }
            try await index(live)
            try await backend(.storage) { try await storage.recordEmbedding(live.map(RecordVersion.init), model: embedder.modelID) }
            done += live.count
            progress(done)
            cursor = last.id
        }
    }

    /// What a process that indexes should repair now: every record not embedded with its model
    /// while that model is the active one and no reindex runs; otherwise only failed indexing
    /// (a process left on an older model must not undo a reindex).
    public func repairScope() async throws -> String? {
        let active = try await backend(.storage) { try await storage.serviceValue(EmbeddingState.modelKey) }
        let reindexing = try await backend(.storage) { try await storage.serviceValue(EmbeddingState.reindexModelKey) } != nil
        return active == embedder.modelID && !reindexing ? embedder.modelID : nil
    }
}
