import SomaCore

/// Registers the Redis cache and the Redis Streams bus under the name `redis`, each with a pool of its own.
public enum RedisBackends {
    public static let name = "redis"

    /// A backend on a new client, whose connections and threads end at the backend's shutdown.
    static func provisioned<Backend: Sendable>(_ configuration: BackendConfiguration, _ build: (RedisClient) throws -> Backend) throws -> Provisioned<
        Backend
    > {
        let client = try RedisClient(try RedisEndpoint(configuration))
        return Provisioned(try build(client), services: [CloseAtShutdown { await client.close() }])
    }

    static let diagnosis = {
        typealias E = RedisEndpoint
        return "check \(E.url.name) (or \(E.hostSetting.name), \(E.portSetting.name)), \(E.passwordSetting.name) and \(E.databaseSetting.name); "
            + "with TLS (rediss://), \(E.caFileSetting.name)"
    }()

    static func described(_ settings: [any DeclaredSetting], automatic: [AutomaticChoice]) -> BackendDescription {
        BackendDescription(name: name, settings: RedisEndpoint.settings + settings, automatic: automatic, diagnosis: diagnosis) { configuration in
            (try? configuration.value(RedisEndpoint.url)).flatMap { $0 }.map(Redaction.url)
                ?? (try? RedisEndpoint(configuration)).map { "\($0.host):\($0.port)/\($0.database)" } ?? "configured"
        }
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerCache(described([], automatic: [.whenSet(RedisEndpoint.url, RedisEndpoint.hostSetting)])) { configuration in
            try provisioned(configuration) { client -> any MemoryCache in RedisCache(client: client) }
        }
        // Chosen only by name (SOMA_BUS=redis): a Redis for the cache does not make it the bus.
        registry.registerBus(described(RedisStreamBus.Settings.declared, automatic: [])) { configuration in
            let settings = try RedisStreamBus.Settings(configuration)
            return try provisioned(configuration) { client -> any EventBus in RedisStreamBus(client: client, settings: settings) }
        }
    }
}
