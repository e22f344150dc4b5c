import Logging
import PostgresNIO
import SomaCore

/// Registers PostgreSQL storage (`postgres`) and its vectors (`pgvector`). Beside PostgreSQL storage,
/// pgvector shares its connection pool.
public enum PostgresBackends {
    public static let storageName = "postgres"
    public static let vectorName = "pgvector"

    static let connection: [any DeclaredSetting] = PostgresEndpoint.settings + [SharedSettings.autoMigrate]

    static func described(_ name: String, _ settings: [any DeclaredSetting], _ automatic: AutomaticChoice, diagnosis: String) -> BackendDescription {
        BackendDescription(name: name, settings: connection + settings, automatic: [automatic], diagnosis: diagnosis) { configuration in
            (try? configuration.value(PostgresEndpoint.url)).flatMap { $0 }.map(Redaction.url) ?? "configured"
        }
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerStorage(
            described(
                storageName, [], .whenSet(PostgresEndpoint.url),
                diagnosis: "check \(PostgresEndpoint.url.name) (host, port, user, password, database, sslmode) and that the server runs; "
                    + "if the schema is behind, run `soma migrate`")
        ) { configuration in
            try storage(configuration).map { $0 as any MemoryStorage }
        }
        let table = PgVectorIndex.tableSetting
        let besideStorage = AutomaticChoice(priority: 50, when: "the storage is postgres") { _, chosen in chosen[.storage] == storageName }
        registry.registerVector(
            described(
                vectorName, [table, SharedSettings.vectorDimension], besideStorage,
                diagnosis:
                    "install the pgvector extension in the database (CREATE EXTENSION vector) and run `soma migrate`; the index holds another model's vectors: run `soma reindex`, or configure the model it was built with"
            )
        ) { configuration, storage in
            let postgres = try (storage as? PostgresStorage).map { Provisioned($0) } ?? Self.storage(configuration)
            let table = try configuration.vectorCollection(configuration.value(table))
            return try postgres.map { try PgVectorIndex(storage: $0, table: table) as any VectorIndex }
        }
    }

    /// The storage for this configuration, with its connection pool as a service (it reconnects by
    /// itself after an outage); once the pool runs: connection checked, schema migrated (unless
    /// `SOMA_AUTO_MIGRATE=false`, in which case a schema that is behind is a start-up error).
    public static func storage(_ configuration: BackendConfiguration) throws -> Provisioned<PostgresStorage> {
        let endpoint = try PostgresEndpoint(configuration)
        let logger = Logger(label: "soma.postgres")
        let client = PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: logger)
        let storage = PostgresStorage(client: client, endpoint: endpoint, logger: logger)
        return Provisioned(storage, services: [client]) { try await ready(storage, configuration) }
    }

    private static func ready(_ storage: PostgresStorage, _ configuration: BackendConfiguration) async throws {
        let (endpoint, logger) = (storage.endpoint, storage.logger)
        do {
            try await storage.call.run { try await endpoint.probe(logger: logger) }
        } catch let error as BackendError {
            throw error
        } catch {
            throw BackendError.unreachable(backend: "postgres", reason: "cannot connect to \(endpoint.description): \(error)")
        }
        if try configuration.value(SharedSettings.autoMigrate) {
            try await migrate(storage)
        } else {
            let missing = try await pendingMigrations(storage)
            guard missing.isEmpty else {
                throw BackendError.migrationsMissing(
                    backend: "postgres", versions: missing, remedy: "run `soma migrate` (\(SharedSettings.autoMigrate.name) is false)")
            }
        }
    }

    static func migrate(_ storage: PostgresStorage) async throws {
        do {
            let applied = try await PostgresMigrations.apply(storage.client, logger: storage.logger)
            if !applied.isEmpty { storage.logger.info("migrations applied", metadata: ["versions": .string(applied.joined(separator: ","))]) }
        } catch let error as PSQLError {
            throw PostgresCall.describe(error, storage.endpoint)
        }
    }

    static func pendingMigrations(_ storage: PostgresStorage) async throws -> [String] {
        let known = PostgresMigrations.all.map(\.version)
        let applied: [String] = try await storage.call.run { [client = storage.client, logger = storage.logger] in
            // A database never migrated has no table to read.
            var exists = false
            for try await found in try await client.query("SELECT to_regclass('soma_schema_migrations') IS NOT NULL", logger: logger).decode(
                Bool.self)
            {
                exists = found
            }
            guard exists else { return [] }
            var versions: [String] = []
            for try await version in try await client.query("SELECT version FROM soma_schema_migrations", logger: logger).decode(String.self) {
                versions.append(version)
            }
            return versions
        }
        return known.filter { !applied.contains($0) }
    }
}
