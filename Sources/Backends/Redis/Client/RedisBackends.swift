import SomaCore

/// Registers the Redis cache and the Redis Streams bus under the name `redis`, each with a pool of its own.
public enum RedisBackends {
    public static let name = "redis"

    /// A backend on a new client, whose connections and threads end at the backend's shutdown.
    static func provisioned<Backend: Sendable>(_ configuration: BackendConfiguration, _ build: (RedisClient) throws -> Backend) throws -> Provisioned<
        Backend
    > {
        let endpoint = try RedisEndpoint(configuration)
        let client = try RedisClient(endpoint)
        return Provisioned(try build(client), services: [CloseAtShutdown { await client.close() }]) {
            try await refuseCluster(client, endpoint)
        }
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

    /// A Redis Cluster node answers keys of other nodes' slots with MOVED and refuses scripts over
    /// keys of several slots (CROSSSLOT): every cache call would fail. Refused at start, by name;
    /// a Redis that does not answer yet is left to the cache's own reconnecting.
    static func refuseCluster(_ client: RedisClient, _ endpoint: RedisEndpoint) async throws {
        guard case .bulk(let info)? = try? await client.command("INFO", "cluster"),
            String(decoding: info, as: UTF8.self).contains("cluster_enabled:1")
        else { return }
        throw BackendError.invalidSetting(
            name: RedisEndpoint.url.name,
            reason: "\(endpoint.host):\(endpoint.port) is a Redis Cluster node; the cache and the stream bus need a standalone Redis "
                + "(or a primary with replicas): a cluster answers keys of other nodes' slots with MOVED and scripts over several keys with CROSSSLOT"
        )
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
