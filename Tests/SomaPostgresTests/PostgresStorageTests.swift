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

@Suite("PostgreSQL word counts", .enabled(if: TestServers.postgresURL != nil, Comment(rawValue: TestServers.postgresMissing)))
struct PostgresWordCountTests {
    /// How many memories hold each word is appended as deltas and folded with the expiry sweep
    /// (counting a common word's postings per query grew with the namespace). Word search's full
    /// score, the sum of its words' idf, shows each count is right before and after each fold.
    @Test func wordCountsFollowWritesAcrossFolds() async throws {
        let storage = try await PostgresTestSupport.storage()
        let ns = "words-\(UUID().uuidString.prefix(8))"
        let texts = ["pine cone", "pine river", "cone river stone", "pine", "stone", "river pine cone"]
        var drafts = try texts.enumerated().map { index, text in Fixture.draft(ns, try Coordinate([Double(index)]), ["text": .string(text)]) }
        var reference = WordIndex()
        func check(_ label: String) async throws {
            for text in ["pine cone", "pine", "cone river stone"] {
                let query = WordQuery(parsing: text)
                let found = try await storage.wordSearch(namespace: ns, query: query, scoring: .standard, type: nil, limit: 10)
                let expected = reference.search(query, scoring: .standard, limit: 10)
                #expect(abs(found.fullScore - expected.fullScore) < 1e-9, "\(label): \(text)")
                #expect(Set(found.hits.map(\.memory.id)) == Set(expected.hits.map(\.id)), "\(label): \(text)")
            }
        }
        _ = try await storage.upsert(drafts, at: Fixture.now)
        for draft in drafts { reference.set(draft.id, DocumentWords(draft.payload)) }
        try await check("as deltas")
        _ = try await storage.deleteExpired(before: Fixture.now, limit: 0)
        try await check("folded")
        drafts[0].payload = ["text": "river"]
        drafts[3].payload = ["text": "stone cone"]
        _ = try await storage.upsert([drafts[0], drafts[3]], at: Fixture.now)
        _ = try await storage.delete(namespace: ns, coordinates: [drafts[1].coordinate], at: Fixture.now)
        reference.set(drafts[0].id, DocumentWords(drafts[0].payload))
        reference.set(drafts[3].id, DocumentWords(drafts[3].payload))
        reference.remove(drafts[1].id)
        try await check("changes as deltas over folded counts")
        _ = try await storage.deleteExpired(before: Fixture.now, limit: 0)
        try await check("folded again")
    }
}
