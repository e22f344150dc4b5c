import ConformanceKit
import Foundation
import PostgresNIO
import SomaCore
import SomaPostgres
import Testing

/// pgvector ties each vector to its record; the suite's points have no records, so this subject
/// writes a bare record for each point first (as the engine's store would have).
struct RecordFirstVectors: VectorIndex {
    let index: PgVectorIndex
    let storage: PostgresStorage

    func ensureCollection(dimension: Int) async throws { try await index.ensureCollection(dimension: dimension) }
    func upsert(_ points: [VectorPoint]) async throws {
        for point in points {
            try await storage.client.query(
                """
                INSERT INTO soma_memories (id, namespace, coord, coordinate, dims, type, payload, search_text, importance, created_us, updated_us, version)
                VALUES (\(point.id), \(point.namespace), \(point.id.uuidString), \([0.0]), 1, \(point.type.rawValue), '{}'::jsonb, '', 0, 0, 0, 1)
                ON CONFLICT DO NOTHING
                """)
        }
        try await index.upsert(points)
    }
    func delete(ids: [UUID]) async throws { try await index.delete(ids: ids) }
    func search(_ query: VectorQuery) async throws -> [VectorHit] { try await index.search(query) }
    func similarities(to vector: [Float], ids: [UUID], namespace: String) async throws -> [UUID: Double] {
        try await index.similarities(to: vector, ids: ids, namespace: namespace)
    }
    func storedVectors(ids: [UUID], namespace: String) async throws -> [UUID: [Float]] {
        try await index.storedVectors(ids: ids, namespace: namespace)
    }
    func count(namespace: String?) async throws -> Int { try await index.count(namespace: namespace) }
    func isHealthy() async -> Bool { await index.isHealthy() }
}

@Suite(
    "pgvector against a real PostgreSQL 16 with pgvector",
    .enabled(if: TestServers.postgresURL != nil, Comment(rawValue: TestServers.postgresMissing)))
struct PgVectorTests {
    @Test(arguments: VectorConformance.checks)
    func conformance(_ check: VectorConformance.Check) async throws {
        let storage = try await PostgresTestSupport.storage()
        // Each check gets its own table: one check changes the dimension on purpose.
        let index = try PgVectorIndex(storage: storage, table: "test_vectors_\(UUID().uuidString.prefix(8).lowercased())")
        try await check.run(RecordFirstVectors(index: index, storage: storage))
    }

    @Test(arguments: RecordBoundConformance.checks)
    func vectorsInTheRecordsTransaction(_ check: RecordBoundConformance.Check) async throws {
        let storage = try await PostgresTestSupport.storage()
        let index = try PgVectorIndex(storage: storage, table: "test_vectors_\(UUID().uuidString.prefix(8).lowercased())")
        try await check.run(BoundPair(storage: storage, vectors: index))
    }

    /// Their row of the ability matrix.
    @Test func declaredAbilities() async throws {
        let storage = try await PostgresTestSupport.storage()
        #expect(Abilities.of(storage) == [.wordSearch, .sharedTransactions])
        #expect(Abilities.of(try PgVectorIndex(storage: storage)) == [.vectorsInRecordTransaction])
    }

    @Test func deletingARecordDeletesItsVectorAndStaleVectorsAreIgnored() async throws {
        let storage = try await PostgresTestSupport.storage()
        let index = try PgVectorIndex(storage: storage, table: "test_vectors_cascade")
        try await index.ensureCollection(dimension: 3)
        let ns = Fixture.namespace()
        let stored = try await storage.upsert([Fixture.draft(ns, Fixture.coordinate(1), ["a": "b"])], at: Fixture.now)[0]
        let point = VectorPoint(id: stored.id, vector: [1, 0, 0], namespace: ns, type: stored.type, version: 2, payload: stored.payload)
        try await index.upsert([point])
        var older = point
        older.version = 1
        older.vector = [0, 1, 0]
        try await index.upsert([older])
        let hits = try await index.search(VectorQuery(vector: [1, 0, 0], namespace: ns, limit: 5))
        #expect(hits.map(\.id) == [stored.id])
        #expect(abs((hits.first?.score ?? 0) - 1) < 1e-6, "the older vector did not replace the newer one")

        _ = try await storage.delete(namespace: ns, coordinates: [stored.coordinate], at: Fixture.now)
        #expect(try await index.count(namespace: ns) == 0, "ON DELETE CASCADE removed the vector with its record")
        try await index.upsert([point])
        #expect(try await index.count(namespace: ns) == 0, "a vector for a record that is gone is not written")
    }

    /// With the records in the same database, a store writes its record and vector in one
    /// transaction: both rows carry the same inserting or updating transaction id (`xmin`).
    @Test func aStoreWritesItsRecordAndVectorInOneTransaction() async throws {
        let storage = try await PostgresTestSupport.storage()
        let table = "test_vectors_\(UUID().uuidString.prefix(8).lowercased())"
        let index = try PgVectorIndex(storage: storage, table: table)
        let engine = MemoryEngine(storage: storage, cache: NoCache(), vectors: index, bus: NoBus(), embedder: HashEmbedder(dimension: 8))
        try await index.ensureCollection(dimension: 8)
        let ns = Fixture.namespace()
        for version in 1...2 {
            let stored = try await engine.store(Fixture.draft(ns, Fixture.coordinate(1), ["text": .string("version \(version)")]))
            let rows = try await storage.client.query(
                "SELECT m.xmin::text = v.xmin::text, v.version FROM soma_memories m JOIN \(unescaped: table) v ON v.id = m.id WHERE m.id = \(stored.id)"
            )
            var found: [(Bool, Int)] = []
            for try await row in rows.decode((Bool, Int).self) { found.append(row) }
            #expect(found.count == 1 && found[0].0 && found[0].1 == version, "\(found)")
        }
    }
}
