import Foundation
import SomaCore
import Synchronization

/// Exact cosine search over every point of the namespace, in process memory.
public final class InProcessVectorIndex: VectorIndex {
    private struct State {
        var dimension: Int?
        var points: [UUID: VectorPoint] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func ensureCollection(dimension: Int) async throws {
        try state.withLock { state in
            if let existing = state.dimension, existing != dimension, !state.points.isEmpty {
                throw BackendError.dimensionMismatch(expected: dimension, actual: existing)
            }
            state.dimension = dimension
        }
    }

    public func upsert(_ points: [VectorPoint]) async throws {
        try state.withLock { state in
            for point in points {
                if let dimension = state.dimension, point.vector.count != dimension {
                    throw BackendError.dimensionMismatch(expected: dimension, actual: point.vector.count)
                }
            }
            for point in points { state.points[point.id] = point }
        }
    }

    public func delete(ids: [UUID]) async throws {
        state.withLock { state in for id in ids { state.points[id] = nil } }
    }

    public func search(_ query: VectorQuery) async throws -> [VectorHit] {
        let candidates = try state.withLock { state in
            if let dimension = state.dimension, query.vector.count != dimension {
                throw BackendError.dimensionMismatch(expected: dimension, actual: query.vector.count)
            }
            return state.points.values.filter { query.admits(namespace: $0.namespace, type: $0.type, payload: $0.payload) }
        }
        var best = BestHits(limit: query.limit)
        for candidate in candidates {
            best.offer(VectorHit(id: candidate.id, score: VectorMath.cosine(query.vector, candidate.vector), payload: candidate.payload))
        }
        return best.hits
    }

    public func similarities(to vector: [Float], ids: [UUID], namespace: String) async throws -> [UUID: Double] {
        state.withLock { state in
            var found: [UUID: Double] = [:]
            for id in ids {
                if let point = state.points[id], point.namespace == namespace { found[id] = Double(VectorMath.cosine(vector, point.vector)) }
            }
            return found
        }
    }

    public func storedVectors(ids: [UUID], namespace: String) async throws -> [UUID: [Float]] {
        state.withLock { state in
            var found: [UUID: [Float]] = [:]
            for id in ids { if let point = state.points[id], point.namespace == namespace { found[id] = point.vector } }
            return found
        }
    }

    public func count(namespace: String?) async throws -> Int {
        state.withLock { state in
            guard let namespace else { return state.points.count }
            return state.points.values.count { $0.namespace == namespace }
        }
    }

    public func isHealthy() async -> Bool { true }
}
