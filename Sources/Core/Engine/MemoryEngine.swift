import Foundation
import Metrics

/// Every memory operation, written once against the capability protocols.
public final class MemoryEngine: Sendable {
    public let storage: any MemoryStorage
    public let cache: any MemoryCache
    public let vectors: any VectorIndex
    public let bus: any EventBus
    public let embedder: any Embedder
    public let options: EngineOptions
    let now: @Sendable () -> Date
    /// The vector index when it lives in the storage's own database: stores then write both in one transaction.
    let recordBoundVectors: (any RecordBoundVectorIndex)?

    public init(
        storage: any MemoryStorage, cache: any MemoryCache, vectors: any VectorIndex, bus: any EventBus,
        embedder: any Embedder, options: EngineOptions = EngineOptions(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.storage = storage
        self.cache = cache
        self.vectors = vectors
        self.bus = bus
        self.embedder = embedder
        self.options = options
        self.now = now
        recordBoundVectors = vectors.recordBound.flatMap { $0.transactionDomain == storage.transactionDomain ? $0 : nil }
    }

    /// Creates the vector collection for the embedder's dimension; call once at start-up.
    public func prepare() async throws {
        try await backend(.vector) { try await vectors.ensureCollection(dimension: embedder.dimension) }
    }

    // MARK: Indexing

    /// Embeds the records and writes their points. Used by synchronous stores and by the consumer.
    public func index(_ memories: [Memory], known: [UUID: [Float]] = [:]) async throws {
        guard !memories.isEmpty else { return }
        let embedded = try await embeddings(of: memories.map { ($0.id, $0.payload) }, known: known)
        let points = zip(memories, embedded).map { VectorPoint($0, vector: $1) }
        try await backend(.vector) { try await vectors.upsert(points) }
    }

    /// One vector per record: `known` ones (a backup's, of this embedder's model) as they are, the
    /// others from the embedder.
    func embeddings(of records: [(id: UUID, payload: JSONObject)], known: [UUID: [Float]]) async throws -> [[Float]] {
        let missing = records.indices.filter { known[records[$0].id] == nil }
        guard !missing.isEmpty else { return records.map { known[$0.id]! } }
        var made = try await embeddings(of: missing.map { records[$0].payload })[...]
        return records.map { known[$0.id] ?? made.removeFirst() }
    }

    /// One vector per payload, of the embedder's dimension.
    func embeddings(of payloads: [JSONObject]) async throws -> [[Float]] {
        let texts = payloads.map { EmbeddingText.of($0, fields: options.embedFields) }
        let embedded = try await backend(.embedder) { try await embedder.embed(texts) }
        guard embedded.count == payloads.count, embedded.allSatisfy({ $0.count == embedder.dimension }) else {
            throw EngineError.unavailable(capability: .embedder, reason: "embedder returned vectors of the wrong shape")
        }
        return embedded
    }

    // MARK: Cache

    func cacheKey(_ id: UUID) -> String { "soma:mem:" + id.text(lowercase: true) }

    /// Lookups by result, for operators (and the benchmark's hit ratio) on /metrics.
    static let cacheHits = Counter(label: "soma_cache_lookups_total", dimensions: [("result", "hit")])
    static let cacheMisses = Counter(label: "soma_cache_lookups_total", dimensions: [("result", "miss")])

    func cached(_ id: UUID) async -> Memory? {
        await cached([id])[0]
    }

    /// Cached records for the ids, in one cache round trip; nil where missing or unreadable.
    func cached(_ ids: [UUID]) async -> [Memory?] {
        guard !ids.isEmpty else { return [] }
        let values = (try? await cache.get(ids.map(cacheKey))) ?? Array(repeating: nil, count: ids.count)
        let memories = values.map { bytes in bytes.flatMap(MemoryCacheCodec.decode) }
        let hits = memories.count { $0 != nil }
        Self.cacheHits.increment(by: hits)
        Self.cacheMisses.increment(by: memories.count - hits)
        return memories
    }

    /// A record's place in the cache's ordering: its update time, which storage keeps increasing.
    func cacheOrder(_ memory: Memory) -> Int64 {
        Int64((memory.updatedAt.timeIntervalSince1970 * 1_000_000).rounded())
    }

    func remember(_ memories: [Memory]) async {
        let entries = memories.map { CacheEntry(key: cacheKey($0.id), value: MemoryCacheCodec.encode($0), order: cacheOrder($0)) }
        try? await cache.put(entries, ttl: options.cacheTTL)
    }

    /// Tombstones that keep reads which began before the write from caching what it replaced:
    /// at the new record's order after a store, just past the old one's after a delete.
    func invalidate(_ memories: [Memory], deleted: Bool) async {
        let entries = memories.map { CacheEntry(key: cacheKey($0.id), value: nil, order: cacheOrder($0) + (deleted ? 1 : 0)) }
        try? await cache.put(entries, ttl: options.cacheTTL)
    }

    /// Records by id through the cache; misses are read from storage in one call and cached.
    func load(ids: [UUID], namespace: String) async throws -> [UUID: Memory] {
        var found: [UUID: Memory] = [:]
        var missing: [UUID] = []
        for (id, memory) in zip(ids, await cached(ids)) {
            if let memory, memory.namespace == namespace {
                found[id] = memory
            } else {
                missing.append(id)
            }
        }
        if !missing.isEmpty {
            let loaded = try await backend(.storage) { try await storage.get(namespace: namespace, ids: missing) }
            await remember(loaded)
            for memory in loaded { found[memory.id] = memory }
        }
        let moment = now()
        return found.filter { !$0.value.isExpired(at: moment) }
    }

    // MARK: Validation

    /// Refuses a draft that `store` would refuse, without writing anything.
    public func validate(_ draft: MemoryDraft) throws {
        guard draft.coordinate.dimensions <= options.maxCoordinateDimensions else {
            throw EngineError.invalid(
                CoordinateError.tooManyDimensions(draft.coordinate.dimensions, max: options.maxCoordinateDimensions).description)
        }
        guard JSONValue.object(draft.payload).depth <= options.maxPayloadDepth else {
            throw EngineError.invalid("payload is nested deeper than \(options.maxPayloadDepth) levels")
        }
        guard draft.importance.isFinite else { throw EngineError.invalid("importance must be a finite number") }
        if let expiry = draft.expiresAt, !expiry.timeIntervalSince1970.isFinite {
            throw EngineError.invalid("expires_at is not a valid time")
        }
    }

    func checkedLimit(_ limit: Int, max: Int) throws -> Int {
        guard limit >= 1, limit <= max else { throw EngineError.invalid("limit must be between 1 and \(max)") }
        return limit
    }
}
