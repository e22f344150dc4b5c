import Logging

/// Settings of the original service that this build reads under another name or cannot honour.
/// Its values files set them; each one set here is logged once at start, by name, so an operator
/// moving over sees what no longer applies instead of a silent no-op.
public enum OriginalSettings {
    /// Names the original read that have no meaning here, with why.
    public static let ignored: [(name: String, reason: String)] = [
        ("MEMORY_MODE", "backends follow SOMA_STORAGE/SOMA_CACHE/SOMA_VECTOR/SOMA_BUS and the configured URLs"),
        ("UVICORN_WORKERS", "one process serves on every core"),
        ("UVICORN_TIMEOUT_GRACEFUL", "the stop's grace is SOMA_SHUTDOWN_GRACE_SECONDS"),
        ("SKIP_SCHEMA_VALIDATION", "requests are always validated"),
        ("QDRANT_TLS", "TLS follows QDRANT_URL's scheme (https://)"),
        ("SOMA_RATE_MAX", "the rate limit is SOMA_RATE_LIMIT_MAX"),
        ("SOMA_MAX_MEMORY_SIZE", "memories are not evicted by count; use ttl_seconds"),
        ("SOMA_PRUNING_INTERVAL_SECONDS", "expired memories are swept every 30 s"),
        ("SOMA_HYBRID_BOOST", "hybrid routes take boost per request (default 2.0)"),
        ("SOMA_HYBRID_CANDIDATE_MULTIPLIER", "recall fetches three times top_k candidates"),
        ("SOMA_SIMILARITY_METRIC", "similarity is cosine"),
        ("SOMA_SIMILARITY_ALLOW_NEGATIVE", "similarity is cosine"),
    ]

    /// The model the in-process embedder runs, under the names the original's SOMA_MODEL_NAME took.
    static let inProcessModelNames: Set<String> = ["all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"]

    /// One line per setting of the original's that is set but not honoured.
    public static func warnings(_ source: SettingsSource) -> [String] {
        var lines = ignored.compactMap { name, reason in
            source.string(name).map { _ in "\(name) is set but ignored: \(reason)" }
        }
        if let model = source.string(ServiceSetting.originalModelName.name), !inProcessModelNames.contains(model.lowercased()) {
            lines.append(
                "\(ServiceSetting.originalModelName.name)=\(model) is set but ignored: this build runs all-MiniLM-L6-v2 in process; "
                    + "set SOMA_EMBEDDINGS_URL and SOMA_EMBEDDINGS_MODEL to use another model")
        }
        return lines
    }

    public static func logWarnings(_ source: SettingsSource, logger: Logger) {
        for line in warnings(source) { logger.warning("\(line)") }
    }
}
