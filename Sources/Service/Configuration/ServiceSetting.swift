import Logging
import SomaCore

extension Logger.Level: SettingChoice {}

/// The service's own settings, each declared once: `ServiceSettings.read` reads them by these
/// declarations and `SettingCatalogue.service` lists them.
public enum ServiceSetting {
    public static let host = Setting<String?>("SOMA_HOST", shownDefault: "127.0.0.1", "Listen address (without a token, loopback only)")
    public static let port = Setting<Int?>("SOMA_PORT", shownDefault: "9595", "Listen port", problem: portProblem)
    public static let namespace = Setting<String>("SOMA_MEMORY_NAMESPACE", default: "api_ns", "Namespace of requests without X-Soma-Namespace")
    public static let apiToken = Setting<String?>("SOMA_API_TOKEN", secret: true, "Bearer token for every namespace")
    public static let apiTokenFile = Setting<String?>("SOMA_API_TOKEN_FILE", "A file holding the bearer token for every namespace")
    public static let apiTokensFile = Setting<String?>("SOMA_API_TOKENS_FILE", "A file of `token: ns1,ns2` lines (`*` = every namespace)")
    public static let rateLimitMax = Setting<Int>(
        "SOMA_RATE_LIMIT_MAX", default: 600, in: 0...Int(Int32.max), "Requests per token per window; 0 turns limiting off")
    public static let rateLimitWindow = Setting<Int>("SOMA_RATE_LIMIT_WINDOW_SECONDS", default: 60, in: 1...86_400, "The rate limit's window")
    public static let corsOrigins = Setting<SettingList>("SOMA_CORS_ORIGINS", default: SettingList([]), "Comma-separated allowed origins, or `*`")
    public static let maxBodyBytes = Setting<Int?>(
        "SOMA_MAX_BODY_BYTES", shownDefault: "1048576", "Request body limit (413 above it)", problem: atLeastOne)
    public static let idleTimeout = Setting<Int>(
        "SOMA_HTTP_IDLE_TIMEOUT_SECONDS", default: 30, in: 1...86_400,
        "Closes a connection silent this long: before its first request, between requests, or part-way through a request's headers or body")
    public static let consoleEnabled = Setting<Bool>("SOMA_CONSOLE_ENABLED", default: true, "Serve the web console at /console/")
    public static let maxTopK = Setting<Int>(
        "SOMA_MAX_TOP_K", default: EngineOptions().maxTopK, in: 1...1_000_000, "Largest top_k a request may ask for")
    public static let maxBulkItems = Setting<Int>(
        "SOMA_MAX_BULK_ITEMS", default: EngineOptions().maxBulkItems, in: 1...1_000_000, "Most items in one bulk request")
    public static let maxPayloadDepth = Setting<Int>(
        "SOMA_MAX_PAYLOAD_DEPTH", default: EngineOptions().maxPayloadDepth, in: 1...1000, "Payload nesting cap")
    public static let maxCoordinateDimensions = Setting<Int>(
        "SOMA_MAX_COORDINATE_DIMENSIONS", default: EngineOptions().maxCoordinateDimensions, in: 1...10_000, "Coordinate size cap")
    public static let logLevel = Setting<Logger.Level>("LOG_LEVEL", default: .info, "`trace` ... `critical`")
    public static let dataDirectory = SharedSettings.dataDirectory
    public static let cacheTTL = Setting<Int>("SOMA_CACHE_TTL_SECONDS", default: 300, in: 1...31_536_000, "Record cache lifetime")
    public static let bm25K1 = Setting<Double>(
        "SOMA_BM25_K1", default: BM25.standard.k1, in: 0...10, "Word search: how fast repeats of a word stop adding (BM25 k1)")
    public static let bm25B = Setting<Double>(
        "SOMA_BM25_B", default: BM25.standard.b, in: 0...1, "Word search: how much long memories are discounted (BM25 b, 0 to 1)")
    public static let hybridFusion = Setting<HybridFusion>(
        "SOMA_HYBRID_FUSION", default: EngineOptions().hybridFusion, "Hybrid recall's fusion: `weighted` (scores) or `rrf` (ranks)")
    public static let hybridKeywordWeight = Setting<Double>(
        "SOMA_HYBRID_KEYWORD_WEIGHT", default: EngineOptions().hybridKeywordWeight, in: 0...1, "Hybrid recall: the word side's weight, 0 to 1")
    public static let shutdownGrace = Setting<Int>(
        "SOMA_SHUTDOWN_GRACE_SECONDS", default: 20, in: 1...3600, "How long a stop may take before work is cancelled")
    public static let embedFields = Setting<SettingList>(
        "SOMA_EMBED_FIELDS", default: SettingList([]), shownDefault: "all string values", "Payload fields whose text is embedded, in this order")
    public static let repairInterval = Setting<Int>(
        "SOMA_INDEX_REPAIR_INTERVAL_MS", default: 10_000, in: 1...86_400_000,
        "How often the indexing process re-indexes memories whose indexing failed")
    public static let reindexBatchSize = Setting<Int>(
        "SOMA_REINDEX_BATCH_SIZE", default: 256, in: 1...100_000, "Memories per round of `soma reindex`")
    public static let vectorIndexAsync = Setting<Bool>("VECTOR_INDEX_ASYNC", default: false, "`true`: consumers index from events instead of the API")
    public static let eventingEnabled = SharedSettings.eventingEnabled
    public static let consumerMetricsPort = Setting<Int>(
        "CONSUMER_METRICS_PORT", default: 8001, "`soma consume`'s probe and metrics port", problem: portProblem)
    public static let consumerMaxAttempts = Setting<Int>(
        "CONSUMER_MAX_ATTEMPTS", default: ConsumerPolicy().maxAttempts, in: 1...1000, "Deliveries of a failing event before it is dead-lettered")
    public static let consumerBackoff = Setting<Int>(
        "CONSUMER_RETRY_BACKOFF_MS", default: 200, in: 1...600_000, "The first retry's delay, doubling up to 10 s")
    public static let consumerGroup = Setting<String>(
        "KAFKA_CONSUMER_GROUP", default: "soma-consumer-group", "The consumer pods' group (the original's name, so offsets carry over)")
    /// Read by the client commands from the environment.
    public static let url = Setting<String>(
        "SOMA_URL", default: "http://127.0.0.1:9595", "The server the client commands (soma store, recall, ...) talk to")
    // The original's names, read with its meaning (ours win where both are set).
    public static let originalNamespace = Setting<String?>("SOMA_NAMESPACE", "The original's namespace setting; overrides SOMA_MEMORY_NAMESPACE")
    public static let hybridRecallDefault = Setting<Bool>(
        "SOMA_HYBRID_RECALL_DEFAULT", default: true, "The original routes' /recall is hybrid unless a request says otherwise")
    public static let originalBodyMegabytes = Setting<Double?>(
        "SOMA_MAX_REQUEST_BODY_MB", "The original's body limit in megabytes, read when SOMA_MAX_BODY_BYTES is unset",
        problem: { value in value.map { $0 > 0 && $0 < 1024 } == false ? "must be a number of megabytes above 0 and below 1024" : nil })
    public static let originalModelName = Setting<String?>(
        "SOMA_MODEL_NAME", "The original's model name: all-MiniLM-L6-v2 is the in-process model, others are ignored")
    public static let uvicornPort = Setting<Int?>("UVICORN_PORT", "The original's port setting, read when SOMA_PORT is unset", problem: portProblem)
    public static let uvicornHost = Setting<String?>("UVICORN_HOST", "The original's host setting, read when SOMA_HOST is unset")

    /// Every one, in the order `soma config --describe` lists them.
    public static let all: [any DeclaredSetting] =
        [
            host, port, namespace, apiToken, apiTokenFile, apiTokensFile, rateLimitMax, rateLimitWindow, corsOrigins, maxBodyBytes, idleTimeout,
            consoleEnabled,
            maxTopK, maxBulkItems, maxPayloadDepth, maxCoordinateDimensions, logLevel,
        ] + Capability.allCases.map(\.selection) + [
            dataDirectory, cacheTTL, bm25K1, bm25B, hybridFusion, hybridKeywordWeight, shutdownGrace, embedFields, repairInterval,
            reindexBatchSize, vectorIndexAsync, eventingEnabled, consumerMetricsPort, consumerMaxAttempts, consumerBackoff, consumerGroup, url,
            originalNamespace, hybridRecallDefault, originalBodyMegabytes, originalModelName, uvicornPort, uvicornHost,
        ]

    private static func portProblem(_ port: Int?) -> String? {
        port.map { (0...65535).contains($0) } == false ? "must be between 0 and 65535" : nil
    }

    private static func atLeastOne(_ value: Int?) -> String? {
        value.map { $0 >= 1 } == false ? "must be at least 1" : nil
    }
}

extension Capability {
    /// `SOMA_STORAGE`, `SOMA_CACHE`, ...: names the backend of this capability.
    public var selection: Setting<String?> {
        Setting(selectionSetting, shownDefault: "chosen by the backends", "Names the \(self == .bus ? "event bus" : "\(self) backend")")
    }
}
