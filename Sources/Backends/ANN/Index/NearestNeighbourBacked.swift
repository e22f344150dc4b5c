import Foundation
import SomaCore

/// A vector backend whose searches are answered by a `NearestNeighbourIndex` in memory.
public protocol NearestNeighbourBacked: VectorIndex {
    var index: NearestNeighbourIndex { get }
}

extension NearestNeighbourBacked {
    public func search(_ query: VectorQuery) async throws -> [VectorHit] {
        try index.search(query)
    }

    public func similarities(to vector: [Float], ids: [UUID], namespace: String) async throws -> [UUID: Double] {
        try index.similarities(to: vector, ids: ids, namespace: namespace)
    }

    public func storedVectors(ids: [UUID], namespace: String) async throws -> [UUID: [Float]] {
        index.storedVectors(ids: ids, namespace: namespace)
    }

    public func count(namespace: String?) async throws -> Int {
        index.count(namespace: namespace)
    }

    public func isHealthy() async -> Bool { index.mergeIsProgressing }

    public func upkeep() async -> VectorIndexUpkeep? {
        VectorIndexUpkeep(pendingVectors: index.pendingCount, lastSave: index.lastSave)
    }
}
