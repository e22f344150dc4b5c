/// Which model made the vectors the service searches, and which generation of the vector
/// collection holds them, kept in storage so that every process agrees. `soma reindex` builds the
/// next generation for a new model and switches these values when it is complete.
public enum EmbeddingState {
    public static let modelKey = "embedding.model"
    public static let generationKey = "embedding.generation"
    /// Set while `soma reindex` builds a generation; cleared when it switches over.
    public static let reindexModelKey = "reindex.model"
    public static let reindexGenerationKey = "reindex.generation"
    /// The value vector backends read to name their collection (see `BackendConfiguration.vectorCollection`).
    /// The service sets it from storage; it is not a setting an operator gives.
    public static let generation = Setting<Int>(
        "soma.internal.vector-generation", default: 0, "The vector collection's generation, from storage (internal)")

    public struct Active: Sendable, Equatable {
        public var model: String
        public var generation: Int
    }

    /// The active model and generation. A store that has none yet adopts the model its records
    /// were embedded with (the embedder's, for an empty or never-indexed store).
    public static func active(in storage: any MemoryStorage, adopting embedder: any Embedder) async throws -> Active {
        let generation = Int(try await storage.serviceValue(generationKey) ?? "0") ?? 0
        if let model = try await storage.serviceValue(modelKey) {
            return Active(model: model, generation: generation)
        }
        let other = try await storage.memoriesToEmbed(notEmbeddedWith: embedder.modelID, after: nil, limit: 1).first?.embeddingModel
        let model = other ?? embedder.modelID
        try await storage.setServiceValues([modelKey: model, generationKey: String(generation)])
        return Active(model: model, generation: generation)
    }

    /// The generation to search and write: the active one, if it was made by this embedder.
    public static func check(_ storage: any MemoryStorage, _ embedder: any Embedder) async throws -> Int {
        let active = try await active(in: storage, adopting: embedder)
        guard active.model == embedder.modelID else {
            throw BackendError.embeddingModelChanged(indexed: active.model, configured: embedder.modelID)
        }
        return active.generation
    }
}
