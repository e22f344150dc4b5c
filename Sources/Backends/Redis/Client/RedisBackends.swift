import SomaCore
import Synchronization

/// Registers the Redis cache and the Redis Streams bus under the name `redis`. The cache and bus of one process share a client.
public enum RedisBackends {
    public static let name = "redis"

    private static let clients = Mutex<[String: RedisClient]>([:])

    /// One client per endpoint and process.
    public static func client(_ configuration: BackendConfiguration) throws -> RedisClient {
        let endpoint = try RedisEndpoint(configuration)
        let key = "\(endpoint)"
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            let client = RedisClient(endpoint)
            clients[key] = client
            return client
        }
    }

    static let connection = [
        SettingDescription("REDIS_URL", secret: true, "`redis://[user][:password]@host:port/db`; the separate settings override its parts"),
        SettingDescription("REDIS_HOST", "The Redis host, when REDIS_URL is unset"),
        SettingDescription("REDIS_PORT", default: "6379", "The Redis port"),
        SettingDescription("REDIS_DB", default: "0", "The Redis database number"),
        SettingDescription("REDIS_PASSWORD", secret: true, "The Redis password"),
        SettingDescription("REDIS_TIMEOUT_MS", default: "1000", "Connect and command timeout"),
        SettingDescription("REDIS_POOL_SIZE", default: "8", "Connections per process"),
    ]

    static func described(_ settings: [SettingDescription], automatic: [AutomaticChoice]) -> BackendDescription {
        BackendDescription(name: name, settings: connection + settings, automatic: automatic) { configuration in
            configuration.string("REDIS_URL").map(Redaction.url)
                ?? (try? RedisEndpoint(configuration)).map { "\($0.host):\($0.port)/\($0.database)" } ?? "configured"
        }
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerCache(described([], automatic: [.whenSet("REDIS_URL", "REDIS_HOST")])) { configuration in
            RedisCache(client: try client(configuration))
        }
        let stream = [
            SettingDescription("REDIS_STREAM_KEY", default: "soma:memory.events", "The Redis Streams bus's stream"),
            SettingDescription("REDIS_STREAM_MAX_LENGTH", default: "1000000", "The stream's approximate length cap"),
            SettingDescription("REDIS_STREAM_CLAIM_IDLE_MS", default: "30000", "Idle time after which another consumer takes over a dead one's deliveries"),
        ]
        // Chosen only by name (SOMA_BUS=redis): a Redis for the cache does not make it the bus.
        registry.registerBus(described(stream, automatic: [])) { configuration in
            RedisStreamBus(client: try client(configuration), settings: try RedisStreamBus.Settings(configuration))
        }
    }
}
