import SomaCore

/// Which backend serves each capability. Names left unset follow the configured URLs: Postgres when
/// `POSTGRES_URL` is set, else SQLite; Redis when Redis is configured, else in-process; Qdrant when
/// Qdrant is configured, else the storage's own vectors (pgvector beside Postgres); Kafka when brokers are set and eventing is
/// on, else in-process; the embedder is `minilm` (in process) unless `SOMA_EMBEDDINGS_URL` picks `openai` or
/// `SOMA_FORCE_HASH_EMBEDDINGS` picks `hash`. A name this build does not know fails start-up, listing the names it knows.
public struct BackendChoice: Sendable, Equatable {
    public var storage: String?
    public var cache: String?
    public var vector: String?
    public var bus: String?
    public var embedder: String?
    var postgresConfigured = false
    var redisConfigured = false
    var qdrantConfigured = false
    var kafkaConfigured = false
    var embeddingsConfigured = false
    /// The original service's switch to its hashing embedder.
    var hashForced = false

    public init(storage: String? = nil, cache: String? = nil, vector: String? = nil, bus: String? = nil, embedder: String? = nil) {
        self.storage = storage
        self.cache = cache
        self.vector = vector
        self.bus = bus
        self.embedder = embedder
    }

    static func read(_ source: SettingsSource) -> BackendChoice {
        var choice = BackendChoice(
            storage: source.string("SOMA_STORAGE"), cache: source.string("SOMA_CACHE"), vector: source.string("SOMA_VECTOR"),
            bus: source.string("SOMA_BUS"), embedder: source.string("SOMA_EMBEDDER"))
        choice.postgresConfigured = source.string("POSTGRES_URL") != nil
        choice.redisConfigured = source.string("REDIS_URL") != nil || source.string("REDIS_HOST") != nil
        choice.qdrantConfigured = source.string("QDRANT_URL") != nil || source.string("QDRANT_HOST") != nil
        let eventing = (try? source.backendConfiguration.bool("EVENTING_ENABLED", default: true)) ?? true
        choice.kafkaConfigured = eventing && source.string("KAFKA_BOOTSTRAP_SERVERS") != nil
        choice.embeddingsConfigured = source.string("SOMA_EMBEDDINGS_URL") != nil
        choice.hashForced = (try? source.backendConfiguration.bool("SOMA_FORCE_HASH_EMBEDDINGS", default: false)) ?? false
        return choice
    }

    /// The name the in-process backends register under (the Service does not import them).
    static let inProcess = "inprocess"

    /// The vector backend that keeps vectors beside this storage's records, if the build has one.
    static func storagesOwnVectors(_ storage: String, _ registry: BackendRegistry) -> String? {
        let name = storage == "postgres" ? "pgvector" : storage
        return registry.has(.vector, name) ? name : nil
    }

    /// The in-process model unless an embedding server is configured or hashing is forced; never a
    /// silent fallback: a missing model fails start-up.
    private func defaultEmbedder(_ registry: BackendRegistry) -> String {
        if hashForced { return "hash" }
        if embeddingsConfigured, registry.has(.embedder, "openai") { return "openai" }
        return registry.has(.embedder, "minilm") ? "minilm" : "hash"
    }

    /// The names to build, resolved against what this build registered.
    public func resolved(in registry: BackendRegistry) -> [Capability: String] {
        let local = Self.inProcess
        let storageName = storage ?? (postgresConfigured ? "postgres" : registry.has(.storage, "sqlite") ? "sqlite" : local)
        let vectorName = vector ?? (qdrantConfigured ? "qdrant" : Self.storagesOwnVectors(storageName, registry) ?? local)
        return [
            .storage: storageName,
            .cache: cache ?? (redisConfigured ? "redis" : local),
            .vector: vectorName,
            .bus: bus ?? (kafkaConfigured ? "kafka" : local),
            .embedder: embedder ?? defaultEmbedder(registry),
        ]
    }
}
