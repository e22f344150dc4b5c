import Foundation
import SomaCore
import Testing

/// The behaviour every `VectorIndex` must show. Subjects are created for dimension 4.
public enum VectorConformance {
    public typealias Check = ConformanceCheck<any VectorIndex>
    public static let dimension = 4

    static func point(_ ns: String, _ vector: [Float], type: MemoryType = .episodic, payload: JSONObject = [:]) -> VectorPoint {
        VectorPoint(id: UUID(), vector: vector, namespace: ns, type: type, version: 1, payload: payload)
    }

    public static let checks: [Check] = [
        Check("stored vectors read back, in their namespace only") { index in
            try await index.ensureCollection(dimension: dimension)
            let ns = Fixture.namespace(), other = Fixture.namespace()
            let points = (0..<3).map { axis in point(ns, (0..<dimension).map { $0 == axis ? 2 : ($0 == axis + 1 ? 1 : 0) }) }
            try await index.upsert(points + [point(other, [1, 1, 1, 1])])
            let read = try await index.storedVectors(ids: points.map(\.id) + [UUID()], namespace: ns)
            #expect(Set(read.keys) == Set(points.map(\.id)), "each point of the namespace, nothing else")
            for point in points {
                let back = try #require(read[point.id])
                #expect(VectorMath.cosine(back, point.vector) > 0.9999, "the same direction (an index may keep it normalised)")
            }
            #expect(try await index.storedVectors(ids: points.map(\.id), namespace: other).isEmpty)
        },
        Check("nearest first, scores descending") { index in
            try await index.ensureCollection(dimension: dimension)
            let ns = Fixture.namespace()
            let exact = point(ns, [1, 0, 0, 0]), near = point(ns, [0.9, 0.1, 0, 0]), far = point(ns, [0, 0, 1, 0]),
                opposite = point(ns, [-1, 0, 0, 0])
            try await index.upsert([far, opposite, exact, near])
            let hits = try await index.search(VectorQuery(vector: [1, 0, 0, 0], namespace: ns, limit: 10))
            #expect(hits.map(\.id) == [exact.id, near.id, far.id, opposite.id])
            #expect(abs(hits[0].score - 1) < 1e-5)
            #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
            #expect(try await index.search(VectorQuery(vector: [1, 0, 0, 0], namespace: ns, limit: 2)).count == 2)
        },
        Check("similarities of given points are their search scores, in their namespace only") { index in
            try await index.ensureCollection(dimension: dimension)
            let ns = Fixture.namespace(), other = Fixture.namespace()
            let a = point(ns, [1, 0, 0, 0]), b = point(ns, [0.6, 0.8, 0, 0]), c = point(ns, [0, 0, 1, 0]), elsewhere = point(other, [1, 0, 0, 0])
            try await index.upsert([a, b, c, elsewhere])
            let query: [Float] = [0.8, 0.6, 0, 0]
            let searched = Dictionary(
                uniqueKeysWithValues: try await index.search(VectorQuery(vector: query, namespace: ns, limit: 10)).map { ($0.id, $0.score) })
            let found = try await index.similarities(to: query, ids: [a.id, b.id, elsewhere.id, UUID()], namespace: ns)
            #expect(Set(found.keys) == [a.id, b.id], "only the asked points of the namespace")
            for (id, score) in found { #expect(abs(score - searched[id]!) < 1e-4) }
            #expect(abs(found[b.id]! - 0.96) < 1e-4)
        },
        Check("upsert replaces, delete removes") { index in
            try await index.ensureCollection(dimension: dimension)
            let ns = Fixture.namespace()
            var moving = point(ns, [1, 0, 0, 0])
            let other = point(ns, [0, 1, 0, 0])
            try await index.upsert([moving, other])
            moving.vector = [0, 0.9, 0.1, 0]
            try await index.upsert([moving])
            #expect(try await index.count(namespace: ns) == 2)
            let hits = try await index.search(VectorQuery(vector: [0, 1, 0, 0], namespace: ns, limit: 10))
            #expect(hits.map(\.id) == [other.id, moving.id])
            try await index.delete(ids: [other.id, UUID()])
            #expect(try await index.search(VectorQuery(vector: [0, 1, 0, 0], namespace: ns, limit: 10)).map(\.id) == [moving.id])
            #expect(try await index.count(namespace: ns) == 1)
        },
        Check("search never leaves its namespace") { index in
            try await index.ensureCollection(dimension: dimension)
            let one = Fixture.namespace("one"), two = Fixture.namespace("two")
            let mine = point(one, [1, 0, 0, 0]), theirs = point(two, [1, 0, 0, 0])
            try await index.upsert([mine, theirs])
            #expect(try await index.search(VectorQuery(vector: [1, 0, 0, 0], namespace: one, limit: 10)).map(\.id) == [mine.id])
            #expect(try await index.count(namespace: two) == 1)
        },
        Check("type and payload filters") { index in
            try await index.ensureCollection(dimension: dimension)
            let ns = Fixture.namespace()
            let a = point(ns, [1, 0, 0, 0], type: .semantic, payload: ["tag": "x", "n": 1])
            let b = point(ns, [1, 0.1, 0, 0], type: .episodic, payload: ["tag": "x", "n": 2])
            let c = point(ns, [1, 0.2, 0, 0], type: .episodic, payload: ["tag": "y"])
            try await index.upsert([a, b, c])
            func ids(_ type: MemoryType?, _ filters: JSONObject) async throws -> Set<UUID> {
                Set(try await index.search(VectorQuery(vector: [1, 0, 0, 0], namespace: ns, type: type, filters: filters, limit: 10)).map(\.id))
            }
            #expect(try await ids(.semantic, [:]) == [a.id])
            #expect(try await ids(nil, ["tag": "x"]) == [a.id, b.id])
            #expect(try await ids(.episodic, ["tag": "x"]) == [b.id])
            #expect(try await ids(nil, ["n": 2]) == [b.id])
            #expect(try await ids(nil, ["tag": "z"]).isEmpty)
        },
        Check("a collection keeps its dimension") { index in
            try await index.ensureCollection(dimension: dimension)
            let ns = Fixture.namespace()
            try await index.upsert([point(ns, [1, 0, 0, 0])])
            await #expect(throws: (any Error).self) { try await index.ensureCollection(dimension: dimension + 1) }
            await #expect(throws: (any Error).self) { try await index.upsert([point(ns, [1, 0, 0])]) }
        },
    ]
}
