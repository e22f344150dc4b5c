import ConformanceKit
import Foundation
import Logging
import PostgresNIO
@testable import SomaPostgres
import SomaCore
import Testing

@Suite("PostgreSQL migrations", .enabled(if: TestServers.postgresURL != nil, Comment(rawValue: TestServers.postgresMissing)))
struct PostgresMigrationTests {
    /// A fresh, empty database on the test server; returns its URL.
    static func emptyDatabase() async throws -> String {
        let name = "mig_\(UUID().uuidString.prefix(8).lowercased())"
        let storage = try await PostgresTestSupport.storage()
        try await storage.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        var url = URLComponents(string: TestServers.postgresURL!)!
        url.path = "/\(name)"
        return url.string!
    }

    static func client(_ url: String) throws -> PostgresClient {
        let endpoint = try PostgresEndpoint(BackendConfiguration(["POSTGRES_URL": url]))
        return PostgresClient(configuration: endpoint.clientConfiguration)
    }

    @Test func replicasStartingTogetherApplyEachMigrationOnce() async throws {
        let url = try await Self.emptyDatabase()
        let clients = try (0..<4).map { _ in try Self.client(url) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { await client.run() } }
            let applied = try await withThrowingTaskGroup(of: [String].self) { racers in
                for client in clients { racers.addTask { try await PostgresMigrations.apply(client, logger: Logger(label: "test")) } }
                return try await racers.reduce(into: []) { $0 += $1 }
            }
            #expect(applied.sorted() == PostgresMigrations.all.map(\.version).sorted(), "each migration ran exactly once across the four")
            var recorded: [String] = []
            for try await version in try await clients[0].query("SELECT version FROM soma_schema_migrations ORDER BY version").decode(String.self) {
                recorded.append(version)
            }
            #expect(recorded == PostgresMigrations.all.map(\.version))
            group.cancelAll()
        }
    }

    @Test func withoutAutoMigrateABehindSchemaStopsStartUpAndSaysWhatToRun() async throws {
        let url = try await Self.emptyDatabase()
        let manual = BackendConfiguration(["POSTGRES_URL": url, "SOMA_AUTO_MIGRATE": "false"])
        await #expect {
            _ = try await PostgresBackends.storage(manual).startedForTests()
        } throws: { error in
            "\(error)".contains("soma migrate")
        }
        // What `soma migrate` does: open with migrations on; afterwards the manual start succeeds.
        let storage = try await PostgresBackends.storage(BackendConfiguration(["POSTGRES_URL": url])).startedForTests()
        #expect(try await PostgresBackends.pendingMigrations(storage).isEmpty)
        _ = try await PostgresBackends.storage(manual).startedForTests()
    }
}
