/// Every setting the service reads, by its environment-variable name. `soma config` prints from
/// it, the Helm chart's tests check the chart against it, and a unit test checks that the sources
/// read no name missing here.
public enum SettingCatalogue {
    public static let names: [String] = [
        // Server and API
        "SOMA_HOST", "SOMA_PORT", "SOMA_DATA_DIR", "SOMA_MEMORY_NAMESPACE", "SOMA_API_TOKEN", "SOMA_API_TOKEN_FILE",
        "SOMA_API_TOKENS_FILE", "SOMA_RATE_LIMIT_MAX", "SOMA_RATE_LIMIT_WINDOW_SECONDS", "SOMA_CORS_ORIGINS", "SOMA_MAX_BODY_BYTES",
        "SOMA_MAX_TOP_K", "SOMA_MAX_BULK_ITEMS", "SOMA_MAX_PAYLOAD_DEPTH", "SOMA_MAX_COORDINATE_DIMENSIONS", "LOG_LEVEL",
        // Backends and indexing
        "SOMA_STORAGE", "SOMA_CACHE", "SOMA_VECTOR", "SOMA_BUS", "SOMA_EMBEDDER", "SOMA_VECTOR_DIM", "SOMA_CACHE_CAPACITY",
        "SOMA_CACHE_TTL_SECONDS", "SOMA_SHUTDOWN_GRACE_SECONDS", "CONSUMER_METRICS_PORT", "CONSUMER_MAX_ATTEMPTS", "CONSUMER_RETRY_BACKOFF_MS", "SOMA_EMBED_FIELDS", "SOMA_ANN_EXACT_THRESHOLD", "SOMA_ANN_EF_SEARCH", "EVENTING_ENABLED",
        "VECTOR_INDEX_ASYNC", "SOMA_AUTO_MIGRATE", "POSTGRES_POOL_SIZE", "POSTGRES_TIMEOUT_MS", "PGVECTOR_TABLE", "REDIS_TIMEOUT_MS",
        "REDIS_POOL_SIZE", "REDIS_STREAM_KEY", "REDIS_STREAM_MAX_LENGTH", "REDIS_STREAM_CLAIM_IDLE_MS",
        // The original service's connection settings
        "POSTGRES_URL", "REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD", "QDRANT_URL", "QDRANT_HOST",
        "QDRANT_PORT", "QDRANT_API_KEY", "QDRANT_COLLECTION", "QDRANT_TIMEOUT_MS", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_MEMORY_EVENTS_TOPIC", "KAFKA_CONSUMER_GROUP",
        "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CA_LOCATION", "KAFKA_SESSION_TIMEOUT_MS", "KAFKA_DELIVERY_TIMEOUT_MS",
        // The client commands (soma store, recall, ...): the server they talk to
        "SOMA_URL",
    ]

    public static func isSecret(_ name: String) -> Bool { SettingsSource.secretNames.contains(name) }
}
