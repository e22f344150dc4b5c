import ConformanceKit
import Foundation
import SomaCore
import SomaInProcess
import Testing

/// The same index, its hits without the payloads it keeps: hybrid recall then loads every nearest
/// neighbour's record, as it does for an index that keeps no payload.
struct PayloadlessIndex: VectorIndex {
    let index: any VectorIndex

    func ensureCollection(dimension: Int) async throws { try await index.ensureCollection(dimension: dimension) }
    func upsert(_ points: [VectorPoint]) async throws { try await index.upsert(points) }
    func delete(ids: [UUID]) async throws { try await index.delete(ids: ids) }
    func count(namespace: String?) async throws -> Int { try await index.count(namespace: namespace) }
    func isHealthy() async -> Bool { await index.isHealthy() }
    func similarities(to vector: [Float], ids: [UUID], namespace: String) async throws -> [UUID: Double] {
        try await index.similarities(to: vector, ids: ids, namespace: namespace)
    }
    func search(_ query: VectorQuery) async throws -> [VectorHit] {
        try await index.search(query).map { VectorHit(id: $0.id, score: $0.score) }
    }
}

/// Hybrid recall loads the records of the nearest neighbours that reach the answer only, reading
/// the index's payloads for exact-value matches: its answers must equal those of loading them all.
@Suite struct HybridLoadingTests {
    /// Two engines on one storage and one index: one reads the index's payloads, one loads every record.
    private static func engines(clock: TestClock) async throws -> (reading: MemoryEngine, loading: MemoryEngine) {
        let storage = InProcessStorage(), cache = InProcessCache(), index = InProcessVectorIndex()
        let bus = InProcessEventBus(redeliveryAfter: .milliseconds(100)), embedder = HashEmbedder(dimension: 128)
        let reading = MemoryEngine(storage: storage, cache: cache, vectors: index, bus: bus, embedder: embedder, now: { clock.now })
        let loading = MemoryEngine(
            storage: storage, cache: cache, vectors: PayloadlessIndex(index: index), bus: bus, embedder: embedder, now: { clock.now })
        try await reading.prepare()
        return (reading, loading)
    }

    @Test func answersEqualLoadingEveryRecord() async throws {
        let clock = TestClock()
        let (reading, loading) = try await Self.engines(clock: clock)
        let words = ["falcon", "launch", "budget", "meeting", "notes", "release", "alpha", "customer"]
        var rng = SeededGenerator(seed: 5)
        var drafts: [MemoryDraft] = []
        for i in 0..<400 {
            let text = (0..<Int.random(in: 1...4, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
            var memory = draft("ns", "\(i)", ["text": .string(text), "team": .string(i % 3 == 0 ? "red" : "blue")])
            // Some expire: the index still holds their points, so loading their records must drop them.
            if i % 9 == 0 { memory.expiresAt = clock.now.addingTimeInterval(60) }
            drafts.append(memory)
        }
        _ = try await reading.store(drafts)
        clock.advance(120)
        for i in 0..<120 {
            let query = (0..<Int.random(in: 1...3, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
            var request = RecallRequest(namespace: "ns", query: query, topK: [1, 3, 10, 40][i % 4])
            if i % 5 == 0 { request.filters = ["team": "red"] }
            if i % 7 == 0 { request.minScore = 0.6 }
            let read = try await reading.hybridRecall(request), loaded = try await loading.hybridRecall(request)
            #expect(read.map(\.memory.coordinate) == loaded.map(\.memory.coordinate), "\(query) top \(request.topK)")
            #expect(read.map(\.score) == loaded.map(\.score), "\(query) top \(request.topK)")
            #expect(!read.contains { $0.memory.isExpired(at: clock.now) })
        }
    }

    /// A memory holding the query as a value, found by meaning alone and far down the fused
    /// scores, still ranks first: the index's payload shows the match without its record.
    @Test func anExactValueBeyondTheAnswerStillLeads() async throws {
        let (reading, loading) = try await Self.engines(clock: TestClock())
        // 35 memories outrank it on words (word search returns 30) and on fused score.
        _ = try await reading.store((0..<35).map { draft("ns", "\($0)", ["text": "falcon launch falcon launch falcon"]) })
        _ = try await reading.store(draft("ns", "99", ["title": "Falcon launch"]))
        for engine in [reading, loading] {
            let words = try await engine.keywordSearch(RecallRequest(namespace: "ns", query: "falcon launch", topK: 30))
            #expect(!words.contains { $0.memory.coordinate == coord("99") }, "word search alone does not return it")
            let hits = try await engine.hybridRecall(RecallRequest(namespace: "ns", query: "falcon launch", topK: 3))
            #expect(hits.first?.memory.coordinate == coord("99") && hits.first?.score == 1)
            #expect(hits.dropFirst().allSatisfy { $0.score < 1 })
        }
    }
}
