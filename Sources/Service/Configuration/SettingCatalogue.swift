import SomaCore

/// Every setting a `soma` process reads: the service's own, listed here, and each registered
/// backend's, as it declared them when it registered. `soma config` prints from it, the redaction
/// of logs, answers and `soma config` takes its secrets, the Helm chart's drift test reads it (through
/// `soma config --names`), and a unit test checks that the sources read no name missing from it.
public struct SettingCatalogue: Sendable {
    public let settings: [SettingDescription]
    public let secretNames: Set<String>

    public init(registry: BackendRegistry) {
        var seen = Set(Self.service.map(\.name))
        settings = Self.service + registry.settings.filter { seen.insert($0.name).inserted }
        secretNames = Set(settings.filter(\.isSecret).map(\.name))
    }

    public var names: [String] { settings.map(\.name) }
    public func isSecret(_ name: String) -> Bool { secretNames.contains(name) }

    private static func s(_ name: String, _ meaning: String, secret: Bool = false) -> SettingDescription {
        SettingDescription(name, secret: secret, meaning)
    }

    private static func s(_ name: String, _ defaultValue: String, _ meaning: String) -> SettingDescription {
        SettingDescription(name, default: defaultValue, meaning)
    }

    /// The service's own settings: the server, the API, the choice of backends, indexing and the consumer.
    public static let service: [SettingDescription] = [
        s("SOMA_HOST", "127.0.0.1", "Listen address (without a token, loopback only)"),
        s("SOMA_PORT", "9595", "Listen port"),
        s("SOMA_MEMORY_NAMESPACE", "api_ns", "Namespace of requests without X-Soma-Namespace"),
        s("SOMA_API_TOKEN", "Bearer token for every namespace", secret: true),
        s("SOMA_API_TOKEN_FILE", "A file holding the bearer token for every namespace"),
        s("SOMA_API_TOKENS_FILE", "A file of `token: ns1,ns2` lines (`*` = every namespace)"),
        s("SOMA_RATE_LIMIT_MAX", "600", "Requests per token per window; 0 turns limiting off"),
        s("SOMA_RATE_LIMIT_WINDOW_SECONDS", "60", "The rate limit's window"),
        s("SOMA_CORS_ORIGINS", "Comma-separated allowed origins, or `*`"),
        s("SOMA_MAX_BODY_BYTES", "1048576", "Request body limit (413 above it)"),
        s("SOMA_CONSOLE_ENABLED", "true", "Serve the web console at /console/"),
        s("SOMA_MAX_TOP_K", "1000", "Largest top_k a request may ask for"),
        s("SOMA_MAX_BULK_ITEMS", "1000", "Most items in one bulk request"),
        s("SOMA_MAX_PAYLOAD_DEPTH", "32", "Payload nesting cap"),
        s("SOMA_MAX_COORDINATE_DIMENSIONS", "32", "Coordinate size cap"),
        s("LOG_LEVEL", "info", "`trace` ... `critical`"),
        s("SOMA_STORAGE", "chosen by the backends", "Names the storage backend"),
        s("SOMA_CACHE", "chosen by the backends", "Names the cache backend"),
        s("SOMA_VECTOR", "chosen by the backends", "Names the vector backend"),
        s("SOMA_BUS", "chosen by the backends", "Names the event bus"),
        s("SOMA_EMBEDDER", "chosen by the backends", "Names the embedder"),
        s("SOMA_DATA_DIR", "./data", "Data directory of the SQLite default"),
        s("SOMA_CACHE_TTL_SECONDS", "300", "Record cache lifetime"),
        s("SOMA_BM25_K1", "1.2", "Word search: how fast repeats of a word stop adding (BM25 k1)"),
        s("SOMA_BM25_B", "0.75", "Word search: how much long memories are discounted (BM25 b, 0 to 1)"),
        s("SOMA_HYBRID_FUSION", "weighted", "Hybrid recall's fusion: `weighted` (scores) or `rrf` (ranks)"),
        s("SOMA_HYBRID_KEYWORD_WEIGHT", "0.5", "Hybrid recall: the word side's weight, 0 to 1"),
        s("SOMA_SHUTDOWN_GRACE_SECONDS", "20", "How long a stop may take before work is cancelled"),
        s("SOMA_EMBED_FIELDS", "all string values", "Payload fields whose text is embedded, in this order"),
        s("SOMA_INDEX_REPAIR_INTERVAL_MS", "10000", "How often the indexing process re-indexes memories whose indexing failed"),
        s("SOMA_REINDEX_BATCH_SIZE", "256", "Memories per round of `soma reindex`"),
        s("VECTOR_INDEX_ASYNC", "false", "`true`: consumers index from events instead of the API"),
        s("EVENTING_ENABLED", "true", "Relay outbox events to the bus"),
        s("CONSUMER_METRICS_PORT", "8001", "`soma consume`'s probe and metrics port"),
        s("CONSUMER_MAX_ATTEMPTS", "5", "Deliveries of a failing event before it is dead-lettered"),
        s("CONSUMER_RETRY_BACKOFF_MS", "200", "The first retry's delay, doubling up to 10 s"),
        s("KAFKA_CONSUMER_GROUP", "soma-consumer-group", "The consumer pods' group (the original's name)"),
        s("SOMA_URL", "http://127.0.0.1:9595", "The server the client commands (soma store, recall, ...) talk to"),
        // The original's names, read with its meaning (ours win where both are set)
        s("SOMA_NAMESPACE", "The original's namespace setting; overrides SOMA_MEMORY_NAMESPACE"),
        s("SOMA_HYBRID_RECALL_DEFAULT", "true", "The original routes' /recall is hybrid unless a request says otherwise"),
        s("SOMA_MAX_REQUEST_BODY_MB", "The original's body limit in megabytes, read when SOMA_MAX_BODY_BYTES is unset"),
        s("SOMA_MODEL_NAME", "The original's model name: all-MiniLM-L6-v2 is the in-process model, others are ignored"),
        s("UVICORN_PORT", "The original's port setting, read when SOMA_PORT is unset"),
        s("UVICORN_HOST", "The original's host setting, read when SOMA_HOST is unset"),
    ] + OriginalSettings.ignored.map { s($0.name, "the original's; ignored here: \($0.reason)") }
}
