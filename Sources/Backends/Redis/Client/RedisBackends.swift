import SomaCore

/// Registers the Redis cache and the Redis Streams bus under the name `redis`, each with a pool of its own.
public enum RedisBackends {
    public static let name = "redis"

    /// A backend on a new client, whose connections and threads end at the backend's shutdown.
    static func provisioned<Backend: Sendable>(_ configuration: BackendConfiguration, _ build: (RedisClient) throws -> Backend) throws -> Provisioned<Backend> {
        let client = try RedisClient(try RedisEndpoint(configuration))
        return Provisioned(try build(client), services: [CloseAtShutdown { await client.close() }])
    }

    static let connection = [
        SettingDescription("REDIS_URL", secret: true, "`redis://[user][:password]@host:port/db`; the separate settings override its parts"),
        SettingDescription("REDIS_HOST", "The Redis host, when REDIS_URL is unset"),
        SettingDescription("REDIS_PORT", default: "6379", "The Redis port"),
        SettingDescription("REDIS_DB", default: "0", "The Redis database number"),
        SettingDescription("REDIS_PASSWORD", secret: true, "The Redis password"),
        SettingDescription("REDIS_TIMEOUT_MS", default: "1000", "Connect and command timeout"),
        SettingDescription("REDIS_POOL_SIZE", default: "8", "Connections the cache's (or the bus's) commands share, many in flight on each; a blocking stream read takes one of its own"),
        SettingDescription("REDIS_TLS", default: "false", "TLS without a rediss:// URL (with REDIS_HOST)"),
        SettingDescription("REDIS_TLS_CA_FILE", "PEM certificates to trust for Redis's TLS instead of the system's"),
    ]

    static func described(_ settings: [SettingDescription], automatic: [AutomaticChoice]) -> BackendDescription {
        BackendDescription(name: name, settings: connection + settings, automatic: automatic) { configuration in
            configuration.string("REDIS_URL").map(Redaction.url)
                ?? (try? RedisEndpoint(configuration)).map { "\($0.host):\($0.port)/\($0.database)" } ?? "configured"
        }
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerCache(described([], automatic: [.whenSet("REDIS_URL", "REDIS_HOST")])) { configuration in
            try provisioned(configuration) { client -> any MemoryCache in RedisCache(client: client) }
        }
        let stream = [
            SettingDescription("REDIS_STREAM_KEY", default: "soma:memory.events", "The Redis Streams bus's stream"),
            SettingDescription("REDIS_STREAM_MAX_LENGTH", default: "1000000", "The stream's approximate length cap"),
            SettingDescription("REDIS_STREAM_CLAIM_IDLE_MS", default: "30000", "Idle time after which another consumer takes over a dead one's deliveries"),
        ]
        // Chosen only by name (SOMA_BUS=redis): a Redis for the cache does not make it the bus.
        registry.registerBus(described(stream, automatic: [])) { configuration in
            let settings = try RedisStreamBus.Settings(configuration)
            return try provisioned(configuration) { client -> any EventBus in RedisStreamBus(client: client, settings: settings) }
        }
    }
}
