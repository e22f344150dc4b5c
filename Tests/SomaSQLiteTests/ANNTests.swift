import Foundation
import SomaCore
import Testing
@testable import SomaANN

@Suite struct NearestNeighbourIndexTests {
    static func randomVectors(_ count: Int, dimension: Int, seed: UInt64) -> [[Float]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) } }
    }

    func build(_ vectors: [[Float]], threshold: Int, ids given: [UUID]? = nil) async throws -> (NearestNeighbourIndex, [UUID]) {
        var parameters = ANNParameters()
        parameters.exactThreshold = threshold
        let index = NearestNeighbourIndex(dimension: vectors[0].count, parameters: parameters)
        let ids = given ?? vectors.map { _ in UUID() }
        let points = zip(ids, vectors).map { VectorPoint(id: $0, vector: $1, namespace: "ns", type: .episodic, version: 1, payload: [:]) }
        try index.upsert(points, labels: index.labels(for: points))
        return (index, ids)
    }

    @Test func graphRecallAgainstExactSearch() async throws {
        let vectors = Self.randomVectors(3000, dimension: 32, seed: 7)
        let (approximate, ids) = try await build(vectors, threshold: 0)
        let (exact, _) = try await build(vectors, threshold: .max, ids: ids)
        await approximate.waitForMerge()
        let queries = Self.randomVectors(50, dimension: 32, seed: 8)
        var overlap = 0
        for query in queries {
            let truth = Set(try exact.search(VectorQuery(vector: query, namespace: "ns", limit: 10)).map(\.id))
            let found = try approximate.search(VectorQuery(vector: query, namespace: "ns", limit: 10)).map(\.id)
            overlap += found.filter(truth.contains).count
        }
        let recall = Double(overlap) / Double(queries.count * 10)
        #expect(recall >= 0.95, "recall@10 = \(recall)")
    }

    @Test func aVectorIsFindableAtOnceAndDeletesShowAtOnce() async throws {
        let vectors = Self.randomVectors(500, dimension: 16, seed: 3)
        let (index, ids) = try await build(vectors, threshold: 0)
        await index.waitForMerge()
        let fresh = UUID()
        let point = VectorPoint(id: fresh, vector: vectors[0].map { -$0 }, namespace: "ns", type: .semantic, version: 1, payload: [:])
        try index.upsert([point], labels: index.labels(for: [point]))
        #expect(try index.search(VectorQuery(vector: vectors[0].map { -$0 }, namespace: "ns", limit: 1)).first?.id == fresh)
        index.delete(ids: [ids[0]])
        #expect(try !index.search(VectorQuery(vector: vectors[0], namespace: "ns", limit: 5)).map(\.id).contains(ids[0]))
        #expect(index.count(namespace: "ns") == 500)
        #expect(try index.search(VectorQuery(vector: vectors[1], namespace: "ns", type: .semantic, limit: 5)).map(\.id) == [fresh])
        #expect(try index.search(VectorQuery(vector: vectors[1], namespace: "other", limit: 5)).isEmpty)
    }

    @Test func writersHoldTheBufferNearItsBound() async throws {
        var parameters = ANNParameters()
        parameters.exactThreshold = 0
        parameters.maxBuffer = 50
        let index = NearestNeighbourIndex(dimension: 16, parameters: parameters)
        let vectors = Self.randomVectors(1000, dimension: 16, seed: 5)
        for start in stride(from: 0, to: 1000, by: 100) {
            let points = vectors[start..<start + 100].map { VectorPoint(id: UUID(), vector: $0, namespace: "ns", type: .episodic, version: 1, payload: [:]) }
            try index.upsert(points, labels: index.labels(for: points))
            #expect(index.pendingCount <= parameters.maxBuffer + parameters.mergeBatch)
        }
        await index.waitForMerge()
        #expect(index.count(namespace: "ns") == 1000)
        #expect(try index.search(VectorQuery(vector: vectors[999], namespace: "ns", limit: 1)).count == 1)
    }

    @Test func updatesReuseTheirGraphSlots() async throws {
        let vectors = Self.randomVectors(600, dimension: 16, seed: 21)
        let (index, ids) = try await build(vectors, threshold: 0)
        await index.waitForMerge()
        #expect(index.graphSlots(namespace: "ns") == 600)
        for round in 1...3 {
            let moved = Self.randomVectors(600, dimension: 16, seed: 100 + UInt64(round))
            let points = zip(ids, moved).map { VectorPoint(id: $0, vector: $1, namespace: "ns", type: .episodic, version: round + 1, payload: [:]) }
            try index.upsert(points, labels: index.labels(for: points))
            await index.waitForMerge()
            #expect(index.graphSlots(namespace: "ns") == 600, "round \(round): every update kept its slot")
            for i in stride(from: 0, to: 600, by: 37) {
                #expect(try index.search(VectorQuery(vector: moved[i], namespace: "ns", limit: 1)).first?.id == ids[i], "round \(round): updated vector \(i) is found")
                let stale = try index.search(VectorQuery(vector: vectors[i], namespace: "ns", limit: 10)).first { $0.id == ids[i] }
                #expect((stale?.score ?? 0) < 0.999, "round \(round): the replaced vector \(i) is gone from the graph")
            }
        }
    }

    @Test func aSavedGraphIsReusedAndReconciled() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ann-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let vectors = Self.randomVectors(800, dimension: 16, seed: 11)
        let (index, ids) = try await build(vectors, threshold: 0)
        await index.waitForMerge()
        try index.save(to: directory)
        // After the save: one vector deleted, one added. The stored entries are the truth.
        var parameters = ANNParameters()
        parameters.exactThreshold = 0
        let reloaded = NearestNeighbourIndex(dimension: 16, parameters: parameters)
        var entries = zip(ids, vectors).enumerated().map { label, pair in
            (namespace: "ns", entry: NearestNeighbourIndex.Entry(id: pair.0, label: label, vector: pair.1, type: .episodic, version: 1, payload: [:]))
        }
        entries.removeFirst()
        // Replaced after the save under the same label: the saved graph's copy is stale.
        let replacement = vectors[6].map { -$0 }
        entries[4].entry.vector = replacement
        let added = UUID()
        entries.append((namespace: "ns", entry: .init(id: added, label: 5000, vector: vectors[0].map { -$0 }, type: .episodic, version: 1, payload: [:])))
        reloaded.load(entries, from: directory)
        #expect(reloaded.pendingCount <= 2, "only the vector the graph lacks and the replaced one are rebuilt")
        #expect(try reloaded.search(VectorQuery(vector: replacement, namespace: "ns", limit: 1)).first?.id == ids[5])
        let stale = try reloaded.search(VectorQuery(vector: vectors[5], namespace: "ns", limit: 10)).first { $0.id == ids[5] }
        #expect((stale?.score ?? 0) < 0.999, "the saved graph's older vector is not used")
        await reloaded.waitForMerge()
        #expect(try reloaded.search(VectorQuery(vector: replacement, namespace: "ns", limit: 1)).first?.id == ids[5])
        #expect(try !reloaded.search(VectorQuery(vector: vectors[0], namespace: "ns", limit: 3)).map(\.id).contains(ids[0]))
        #expect(try reloaded.search(VectorQuery(vector: vectors[0].map { -$0 }, namespace: "ns", limit: 1)).first?.id == added)
        #expect(try reloaded.search(VectorQuery(vector: vectors[7], namespace: "ns", limit: 1)).first?.id == ids[7])
    }
}

/// A small deterministic generator (SplitMix64) so tests are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
