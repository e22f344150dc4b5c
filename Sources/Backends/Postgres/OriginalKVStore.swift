import Logging
import PostgresNIO
import SomaCore

/// The original service's PostgreSQL, read only: its `kv_store(key text primary key, value jsonb)`
/// table, whose `<namespace>:<coordinate>:data` rows hold memories (links inside them) and
/// `...:meta` rows sit beside. Pages go by key, so a reader can stop and resume anywhere.
public final class OriginalKVStore: Sendable {
    public struct Row: Sendable {
        public let key: String
        public let value: String
        public let meta: String?
    }

    let client: PostgresClient
    let endpoint: PostgresEndpoint
    let logger = Logger(label: "soma.original")

    private init(client: PostgresClient, endpoint: PostgresEndpoint) {
        self.client = client
        self.endpoint = endpoint
    }

    /// The store at `url` (the original's `POSTGRES_URL`), with its connection pool as a service.
    /// Ready once one connection was made within `timeout` (the pool itself would keep retrying a
    /// closed port for a minute): an unreachable or refusing server fails the command in seconds,
    /// naming where it tried.
    public static func open(url: String, timeout: Duration) throws -> Provisioned<OriginalKVStore> {
        var endpoint = try PostgresEndpoint(BackendConfiguration { $0 == PostgresEndpoint.url.name ? url : nil })
        endpoint.timeout = timeout
        let store = OriginalKVStore(
            client: PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: Logger(label: "soma.original")), endpoint: endpoint)
        let probe = endpoint
        return Provisioned(store, services: [store.client]) {
            do {
                try await PostgresCall(endpoint: probe).run { try await probe.probe(logger: Logger(label: "soma.original")) }
            } catch let error as BackendError {
                throw error
            } catch {
                throw BackendError.unreachable(backend: "postgres", reason: "cannot connect to \(probe.description): \(error)")
            }
        }
    }

    public var description: String { endpoint.description }

    /// Memory rows (`:data`) in one namespace or all, in key order.
    public func count(namespace: String?) async throws -> Int {
        let prefix = (namespace ?? "") + (namespace == nil ? "" : ":")
        var total = 0
        let rows = try await client.query(
            "SELECT count(*) FROM kv_store WHERE key LIKE '%:data' AND starts_with(key, \(prefix))", logger: logger)
        for try await count in rows.decode(Int.self) { total = count }
        return total
    }

    /// Up to `limit` memory rows after `key` (nil: from the start), each with its meta row's value.
    /// `withLinks`: only rows whose value holds a `links` list.
    public func rows(after key: String?, namespace: String?, limit: Int, withLinks: Bool = false) async throws -> [Row] {
        let prefix = (namespace ?? "") + (namespace == nil ? "" : ":")
        let links = withLinks ? "AND jsonb_typeof(d.value -> 'links') = 'array'" : ""
        let rows = try await client.query(
            """
            SELECT d.key, d.value::text, m.value::text FROM kv_store d
            LEFT JOIN kv_store m ON m.key = left(d.key, -5) || ':meta'
            WHERE d.key LIKE '%:data' AND starts_with(d.key, \(prefix)) AND d.key > \(key ?? "") \(unescaped: links)
            ORDER BY d.key LIMIT \(limit)
            """, logger: logger)
        var found: [Row] = []
        for try await (key, value, meta) in rows.decode((String, String, String?).self) {
            found.append(Row(key: key, value: value, meta: meta))
        }
        return found
    }
}
