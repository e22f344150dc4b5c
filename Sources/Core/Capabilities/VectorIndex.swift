import Foundation

/// Nearest-neighbour search over memory embeddings. A memory has exactly one point, id = memory id.
public protocol VectorIndex: Sendable {
    /// Creates the collection if missing; fails if it exists with another dimension.
    func ensureCollection(dimension: Int) async throws
    func upsert(_ points: [VectorPoint]) async throws
    func delete(ids: [UUID]) async throws
    /// Best matches first by cosine similarity, always inside `query.namespace`.
    func search(_ query: VectorQuery) async throws -> [VectorHit]
    func count(namespace: String?) async throws -> Int
    func isHealthy() async -> Bool
    /// Cosine similarity of `vector` to the points of `ids` in `namespace`: hybrid recall scores the
    /// memories word search found that the nearest-neighbour search did not return. Ids without a
    /// point are left out; an index that cannot look points up answers nothing (those memories then
    /// get no meaning score).
    func similarities(to vector: [Float], ids: [UUID], namespace: String) async throws -> [UUID: Double]
    /// The vectors of `ids` in `namespace`, as the index keeps them (possibly normalised), for a
    /// backup that carries them (`soma export --vectors`); ids without a point are left out.
    func storedVectors(ids: [UUID], namespace: String) async throws -> [UUID: [Float]]
    /// Persists whatever makes the next start faster (a saved graph); called at clean shutdown.
    func flush() async throws
    /// Itself when it can write vectors in the records' transactions (`RecordBoundVectorIndex`);
    /// nil for an index in its own database or server.
    var recordBound: (any RecordBoundVectorIndex)? { get }
    /// The background work of an index that merges and saves in process; nil for one that does not.
    func upkeep() async -> VectorIndexUpkeep?
}

extension VectorIndex {
    public func similarities(to vector: [Float], ids: [UUID], namespace: String) async throws -> [UUID: Double] { [:] }
    /// An index that cannot read its vectors back: a backup then omits them and the import embeds.
    public func storedVectors(ids: [UUID], namespace: String) async throws -> [UUID: [Float]] { [:] }
    public func flush() async throws {}
    public var recordBound: (any RecordBoundVectorIndex)? { nil }
    public func upkeep() async -> VectorIndexUpkeep? { nil }
}

/// What operators watch of an in-process index: vectors not yet merged into the graph (searched
/// exactly meanwhile) and when the graph was last saved (what a restart reloads).
public struct VectorIndexUpkeep: Sendable, Equatable {
    public var pendingVectors: Int
    public var lastSave: Date?

    public init(pendingVectors: Int, lastSave: Date?) {
        self.pendingVectors = pendingVectors
        self.lastSave = lastSave
    }
}

public struct VectorPoint: Sendable, Equatable {
    public var id: UUID
    public var vector: [Float]
    public var namespace: String
    public var type: MemoryType
    public var version: Int
    public var payload: JSONObject
    /// The record's coordinate, importance and times, for indexes that keep them beside the vector.
    public var record: RecordFacts?

    public struct RecordFacts: Sendable, Equatable {
        public var coordinate: [Double]
        public var importance: Double
        public var createdAt: Date
        public var updatedAt: Date

        public init(coordinate: [Double], importance: Double, createdAt: Date, updatedAt: Date) {
            self.coordinate = coordinate
            self.importance = importance
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }
    }

    public init(id: UUID, vector: [Float], namespace: String, type: MemoryType, version: Int, payload: JSONObject, record: RecordFacts? = nil) {
        self.id = id
        self.vector = vector
        self.namespace = namespace
        self.type = type
        self.version = version
        self.payload = payload
        self.record = record
    }

    /// The point of a stored memory.
    public init(_ memory: Memory, vector: [Float]) {
        self.init(
            id: memory.id, vector: vector, namespace: memory.namespace, type: memory.type, version: memory.version, payload: memory.payload,
            record: .init(
                coordinate: memory.coordinate.values, importance: memory.importance, createdAt: memory.createdAt, updatedAt: memory.updatedAt))
    }
}

public struct VectorQuery: Sendable, Equatable {
    public var vector: [Float]
    public var namespace: String
    public var type: MemoryType?
    /// Payload fields that must equal these values.
    public var filters: JSONObject
    public var limit: Int

    public init(vector: [Float], namespace: String, type: MemoryType? = nil, filters: JSONObject = [:], limit: Int) {
        self.vector = vector
        self.namespace = namespace
        self.type = type
        self.filters = filters
        self.limit = limit
    }

    /// Whether a point passes the namespace, type and payload filters.
    public func admits(namespace: String, type: MemoryType, payload: JSONObject) -> Bool {
        guard namespace == self.namespace else { return false }
        if let wanted = self.type, wanted != type { return false }
        return PayloadFilter.matches(payload, filters)
    }
}

public struct VectorHit: Sendable, Equatable {
    public var id: UUID
    public var score: Double
    /// The payload the index keeps beside the vector, nil when it keeps none. Hybrid recall reads
    /// it to find exact-value matches among the hits whose records it does not load.
    public var payload: JSONObject?

    public init(id: UUID, score: Double, payload: JSONObject? = nil) {
        self.id = id
        self.score = score
        self.payload = payload
    }

    /// Best first: the higher score, then the lower id, so equal scores keep a stable order.
    /// Compares the id's bytes (the order of its text) without formatting it.
    public static func bestFirst(_ a: VectorHit, _ b: VectorHit) -> Bool {
        a.score != b.score ? a.score > b.score : a.id < b.id
    }
}

/// The best `limit` hits offered, in `VectorHit.bestFirst` order, without keeping or sorting the
/// rest: an exact scan offers every vector it reads (100,000 of them while a lost graph is rebuilt).
public struct BestHits: Sendable {
    public let limit: Int
    public private(set) var hits: [VectorHit] = []

    public init(limit: Int) {
        self.limit = max(limit, 0)
        hits.reserveCapacity(min(self.limit, 1024))
    }

    /// Whether a hit with this score could still enter (cheap to ask before building the hit).
    public func admits(score: Double) -> Bool {
        guard let worst = hits.last, hits.count == limit else { return limit > 0 }
        return score >= worst.score
    }

    public mutating func offer(_ hit: VectorHit) {
        KeptBest.offer(hit, to: &hits, limit: limit, by: VectorHit.bestFirst)
    }
}

/// The best `limit` of a stream kept in order, without keeping or sorting the rest.
public enum KeptBest {
    /// Puts `item` in its place in `kept` (best first by `precedes`) if it ranks among the best
    /// `limit`, dropping the one it pushes out.
    @inlinable public static func offer<Item>(_ item: Item, to kept: inout [Item], limit: Int, by precedes: (Item, Item) -> Bool) {
        guard limit > 0 else { return }
        if kept.count == limit {
            guard precedes(item, kept[limit - 1]) else { return }
            kept.removeLast()
        }
        // Binary search for the first kept item this one ranks before.
        var low = 0, high = kept.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(item, kept[middle]) { high = middle } else { low = middle + 1 }
        }
        kept.insert(item, at: low)
    }
}

public enum PayloadFilter {
    /// Every filter key is present in the payload with an equal value.
    public static func matches(_ payload: JSONObject, _ filters: JSONObject) -> Bool {
        filters.allSatisfy { key, value in payload[key].map { $0.jsonEquals(value) } ?? false }
    }
}

public enum VectorMath {
    /// Cosine similarity; 0 when either vector is zero.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "vectors of different dimensions")
        var dot: Float = 0, normA: Float = 0, normB: Float = 0
        for index in a.indices {
            dot += a[index] * b[index]
            normA += a[index] * a[index]
            normB += b[index] * b[index]
        }
        guard normA > 0, normB > 0 else { return 0 }
        return Double(dot / (normA.squareRoot() * normB.squareRoot()))
    }
}

/// A vector index kept in the records' own database (the SQLite default). A synchronous store then
/// writes its records and their vectors in one transaction: one commit per store instead of two,
/// and never a committed record whose vector is missing.
public protocol RecordBoundVectorIndex: VectorIndex {
    /// The database it writes to: bound to a storage whose `transactionDomain` is the same.
    var transactionDomain: ObjectIdentifier { get }
    /// Does what `MemoryStorage.upsert` does, and writes `vectors[i]` as the vector of the record
    /// `drafts[i]` becomes, in the same transaction.
    func upsert(_ drafts: [MemoryDraft], vectors: [[Float]], at now: Date) async throws -> [Memory]
}

extension RecordBoundVectorIndex {
    public var recordBound: (any RecordBoundVectorIndex)? { self }
}
