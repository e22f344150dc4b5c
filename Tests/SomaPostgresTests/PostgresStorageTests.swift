import ConformanceKit
import Foundation
import SomaCore
import SomaPostgres
import Testing

enum PostgresTestSupport {
    static var configuration: BackendConfiguration {
        // Generous: suites share two cores with PostgreSQL, and a check's bulk write is one call.
        BackendConfiguration(["POSTGRES_URL": TestServers.postgresURL!, "POSTGRES_TIMEOUT_MS": "10000"])
    }

    static func storage() async throws -> PostgresStorage {
        try await PostgresBackends.storage(configuration).startedForTests()
    }
}

@Suite("PostgreSQL storage against a real server", .enabled(if: TestServers.postgresURL != nil, Comment(rawValue: TestServers.postgresMissing)))
struct PostgresStorageTests {
    @Test(arguments: StorageConformance.checks)
    func conformance(_ check: StorageConformance.Check) async throws {
        try await check.run(try await PostgresTestSupport.storage())
    }
}

@Suite("PostgreSQL service values", .enabled(if: TestServers.postgresURL != nil, Comment(rawValue: TestServers.postgresMissing)))
struct PostgresServiceValueTests {
    /// Replicas starting together on a fresh database each record the embedding model; two writers
    /// of the same keys in different orders deadlocked (seen in CI: `soma consume` failed to start).
    @Test func replicasWritingTheSameKeysTogetherDoNotDeadlock() async throws {
        let keys = (0..<6).map { "test.order.\(UUID().uuidString.prefix(8)).\($0)" }
        let first = Dictionary(uniqueKeysWithValues: keys.map { ($0, Optional("a")) })
        // The same keys in another iteration order (a dictionary's order depends on its capacity).
        let reordered = try #require(
            [8, 64, 512, 4096].lazy.map { capacity -> [String: String?] in
                var dictionary = [String: String?](minimumCapacity: capacity)
                for key in keys { dictionary[key] = "b" }
                return dictionary
            }.first { Array($0.keys) != Array(first.keys) })
        let one = try await PostgresTestSupport.storage(), other = try await PostgresTestSupport.storage()
        for _ in 0..<20 {
            async let a: Void = one.setServiceValues(first)
            async let b: Void = other.setServiceValues(reordered)
            _ = try await (a, b)
        }
        let value = try await one.serviceValue(keys[0])
        #expect(value == "a" || value == "b")
    }
}
