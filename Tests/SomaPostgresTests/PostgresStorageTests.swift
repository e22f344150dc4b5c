import ConformanceKit
import Foundation
import SomaCore
import SomaPostgres
import Testing

enum PostgresTestSupport {
    static var configuration: BackendConfiguration {
        BackendConfiguration(["POSTGRES_URL": TestServers.postgresURL!, "POSTGRES_TIMEOUT_MS": "3000"])
    }

    static func storage() async throws -> PostgresStorage {
        try await PostgresBackends.storage(configuration)
    }
}

@Suite("PostgreSQL storage against a real server", .enabled(if: TestServers.postgresURL != nil, Comment(rawValue: TestServers.postgresMissing)))
struct PostgresStorageTests {
    @Test(arguments: StorageConformance.checks)
    func conformance(_ check: StorageConformance.Check) async throws {
        try await check.run(try await PostgresTestSupport.storage())
    }
}
