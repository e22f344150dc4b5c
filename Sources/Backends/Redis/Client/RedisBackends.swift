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

    public static func register(into registry: inout BackendRegistry) {
        registry.registerCache(name) { configuration in
            RedisCache(client: try client(configuration))
        }
        registry.registerBus(name) { configuration in
            RedisStreamBus(client: try client(configuration), settings: try RedisStreamBus.Settings(configuration))
        }
    }
}
