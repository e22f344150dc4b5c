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
    private let recordBoundVectors: (any RecordBoundVectorIndex)?

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
        recordBoundVectors = (vectors as? any RecordBoundVectorIndex).flatMap { $0.sharesDatabase(with: storage) ? $0 : nil }
    }

    /// Creates the vector collection for the embedder's dimension; call once at start-up.
    public func prepare() async throws {
        try await backend(.vector) { try await vectors.ensureCollection(dimension: embedder.dimension) }
    }

    // MARK: Writes

    public func store(_ draft: MemoryDraft) async throws -> Memory {
        try await store([draft])[0]
    }

    /// Validates every draft first, then writes them all in one storage transaction.
    public func store(_ drafts: [MemoryDraft]) async throws -> [Memory] {
        guard !drafts.isEmpty else { return [] }
        guard drafts.count <= options.maxBulkItems else {
            throw EngineError.tooLarge("\(drafts.count) items; at most \(options.maxBulkItems) per request")
        }
        let stamped = try drafts.map { draft in
            try validate(draft)
            var draft = draft
            draft.embeddingModel = embedder.modelID
            return draft
        }
        if options.indexSynchronously, let bound = recordBoundVectors {
            return try await storeWithVectors(stamped, into: bound)
        }
        let stored = try await backend(.storage) { try await storage.upsert(stamped, at: now()) }
        await invalidate(stored, deleted: false)
        if options.indexSynchronously {
            do {
                try await index(stored)
            } catch {
                // The record stays stored; without a model stamp it is indexed again by the
                // repair pass (`embedPending`) once the embedder and index answer.
                try? await storage.recordEmbedding(stored.map(RecordVersion.init), model: nil)
            }
        }
        return stored
    }

    /// Records and vectors in one transaction. Embedding comes first; when it fails the records are
    /// stored without a model stamp, for the repair pass (`embedPending`) to index once it answers.
    private func storeWithVectors(_ drafts: [MemoryDraft], into bound: any RecordBoundVectorIndex) async throws -> [Memory] {
        let stored: [Memory]
        if let vectors = try? await embeddings(of: drafts.map(\.payload)) {
            stored = try await backend(.storage) { try await bound.upsert(drafts, vectors: vectors, at: now()) }
        } else {
            let unstamped = drafts.map { draft in
                var draft = draft
                draft.embeddingModel = nil
                return draft
            }
            stored = try await backend(.storage) { try await storage.upsert(unstamped, at: now()) }
        }
        await invalidate(stored, deleted: false)
        return stored
    }

    public func setImportance(namespace: String, coordinate: Coordinate, importance: Double) async throws -> Memory {
        guard importance.isFinite else { throw EngineError.invalid("importance must be a finite number") }
        guard let existing = try await get(namespace: namespace, coordinate: coordinate) else {
            throw EngineError.notFound("no memory at \(coordinate) in namespace \(namespace)")
        }
        var draft = MemoryDraft(
            namespace: namespace, coordinate: coordinate, type: existing.type, payload: existing.payload,
            importance: importance, expiresAt: existing.expiresAt)
        draft.embeddingModel = existing.embeddingModel
        return try await store(draft)
    }

    /// Deletes memories; returns how many existed.
    @discardableResult
    public func delete(namespace: String, coordinates: [Coordinate]) async throws -> Int {
        guard coordinates.count <= options.maxBulkItems else {
            throw EngineError.tooLarge("\(coordinates.count) coordinates; at most \(options.maxBulkItems) per request")
        }
        let deleted = try await backend(.storage) { try await storage.delete(namespace: namespace, coordinates: coordinates, at: now()) }
        await forget(deleted)
        return deleted.count
    }

    /// Removes expired memories from storage, cache and index; returns how many.
    @discardableResult
    public func sweepExpired(limit: Int = 1000) async throws -> Int {
        let expired = try await backend(.storage) { try await storage.deleteExpired(before: now(), limit: limit) }
        await forget(expired)
        return expired.count
    }

    private func forget(_ memories: [Memory]) async {
        guard !memories.isEmpty else { return }
        await invalidate(memories, deleted: true)
        if options.indexSynchronously {
            try? await vectors.delete(ids: memories.map(\.id))
        }
    }

    // MARK: Reads

    public func get(namespace: String, coordinate: Coordinate) async throws -> Memory? {
        let id = MemoryID.make(namespace: namespace, coordinate: coordinate)
        if let cached = await cached(id), cached.namespace == namespace {
            return cached.isExpired(at: now()) ? nil : cached
        }
        guard let memory = try await backend(.storage, { try await storage.get(namespace: namespace, coordinate: coordinate) }) else {
            return nil
        }
        await remember([memory])
        return memory.isExpired(at: now()) ? nil : memory
    }

    public func list(namespace: String, type: MemoryType?, cursor: String?, limit: Int) async throws -> MemoryPage {
        let limit = try checkedLimit(limit, max: options.maxListLimit)
        var page = try await backend(.storage) { try await storage.list(namespace: namespace, type: type, after: cursor, limit: limit) }
        let moment = now()
        page.memories.removeAll { $0.isExpired(at: moment) }
        return page
    }

    public func range(namespace: String, min lower: Coordinate, max upper: Coordinate, type: MemoryType?, limit: Int = 1000) async throws -> [Memory] {
        guard lower.dimensions == upper.dimensions else {
            throw EngineError.invalid(CoordinateError.dimensionMismatch(lower.dimensions, upper.dimensions).description)
        }
        for index in lower.values.indices where lower.values[index] > upper.values[index] {
            throw EngineError.invalid("min is greater than max in dimension \(index + 1)")
        }
        let limit = try checkedLimit(limit, max: options.maxListLimit)
        let found = try await backend(.storage) { try await storage.range(namespace: namespace, min: lower, max: upper, type: type, limit: limit) }
        let moment = now()
        return found.filter { !$0.isExpired(at: moment) }
    }

    public func stats(namespace: String) async throws -> MemoryCounts {
        try await backend(.storage) { try await storage.counts(namespace: namespace) }
    }

    /// Every live memory of a namespace, page by page.
    public func export(namespace: String, pageSize: Int = 500) -> AsyncThrowingStream<Memory, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var cursor: String?
                    repeat {
                        let page = try await self.list(namespace: namespace, type: nil, cursor: cursor, limit: pageSize)
                        for memory in page.memories { continuation.yield(memory) }
                        cursor = page.nextCursor
                    } while cursor != nil && !Task.isCancelled
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Recall

    public func recall(_ request: RecallRequest) async throws -> [ScoredMemory] {
        try checkRecall(request)
        let hits = try await vectorCandidates(request, limit: request.topK * options.overFetch, wanted: request.topK)
        return hits.filter { $0.score >= (request.minScore ?? -.infinity) }
    }

    public func keywordSearch(_ request: RecallRequest) async throws -> [ScoredMemory] {
        try checkRecall(request, needsQuery: true)
        let query = KeywordQuery(term: request.query, exact: request.exact, caseSensitive: request.caseSensitive)
        let found = try await keywordCandidates(query, request, limit: request.topK)
        return Array(found.filter { $0.score >= (request.minScore ?? -.infinity) }.prefix(request.topK))
    }

    /// Fuses vector and keyword ranks by reciprocal rank fusion; a memory holding a payload string
    /// value equal to the query ranks above every other.
    public func hybridRecall(_ request: RecallRequest) async throws -> [ScoredMemory] {
        try checkRecall(request)
        let pool = request.topK * options.overFetch
        let vectorHits = try await vectorCandidates(request, limit: pool)
        var fused: [UUID: ScoredMemory] = [:]
        func add(_ hits: [ScoredMemory], weight: Double) {
            for (rank, hit) in hits.enumerated() {
                let contribution = weight / (options.rrfK + Double(rank + 1))
                fused[hit.memory.id, default: ScoredMemory(memory: hit.memory, score: 0)].score += contribution
            }
        }
        add(vectorHits, weight: 1)
        let terms = ([request.query] + request.terms).filter { !$0.isEmpty }
        for term in terms {
            let query = KeywordQuery(term: term, exact: request.exact, caseSensitive: request.caseSensitive)
            add(try await keywordCandidates(query, request, limit: pool), weight: request.keywordBoost)
        }
        let exactQuery = KeywordQuery(term: request.query, exact: true, caseSensitive: request.caseSensitive)
        for id in fused.keys where exactQuery.score(fused[id]!.memory.payload) > 0 {
            fused[id]!.score += 1  // RRF sums stay far below 1, so this puts exact matches first.
        }
        let ranked = fused.values.sorted(by: Self.ranking)
        return Array(ranked.filter { $0.score >= (request.minScore ?? -.infinity) }.prefix(request.topK))
    }

    /// Vector recall where memories whose payload shares the context's keys and values rank higher:
    /// score = similarity + (equal pairs + 0.25 * keys present with other values) / context size.
    public func recallWithContext(_ request: RecallRequest, context: JSONObject) async throws -> [ScoredMemory] {
        try checkRecall(request)
        guard !context.isEmpty else { return try await recall(request) }
        let candidates = try await vectorCandidates(request, limit: max(request.topK * options.overFetch * 2, 50))
        let rescored = candidates.map { hit -> ScoredMemory in
            var shared = 0.0
            for (key, value) in context {
                guard let present = hit.memory.payload[key] else { continue }
                shared += present.jsonEquals(value) ? 1 : 0.25
            }
            return ScoredMemory(memory: hit.memory, score: hit.score + shared / Double(context.count))
        }
        return Array(rescored.sorted(by: Self.ranking).prefix(request.topK))
    }

    public func recall(_ request: RecallRequest, mode: SearchMode) async throws -> [ScoredMemory] {
        switch mode {
        case .vector: try await recall(request)
        case .keyword: try await keywordSearch(request)
        case .hybrid: try await hybridRecall(request)
        }
    }

    /// Up to `wanted` admitted hits, best first, from a vector search for `limit` candidates.
    private func vectorCandidates(_ request: RecallRequest, limit: Int, wanted: Int? = nil) async throws -> [ScoredMemory] {
        let wanted = wanted ?? limit
        guard !request.query.isEmpty else { return [] }
        let queryVector = try await backend(.embedder) { try await embedder.embedQuery(request.query) }
        guard queryVector.count == embedder.dimension else {
            throw EngineError.unavailable(capability: .embedder, reason: "embedder returned a vector of the wrong dimension")
        }
        let hits = try await backend(.vector) {
            try await vectors.search(
                VectorQuery(vector: queryVector, namespace: request.namespace, type: request.type, filters: request.filters, limit: limit))
        }
        // Load records a chunk at a time and stop once enough passed: most hits do, so the
        // over-fetched tail is rarely read.
        var results: [ScoredMemory] = []
        var next = hits[...]
        while results.count < wanted, !next.isEmpty {
            let chunk = next.prefix(max(wanted - results.count, 8))
            next = next.dropFirst(chunk.count)
            let records = try await load(ids: chunk.map(\.id), namespace: request.namespace)
            results += chunk.compactMap { hit in
                guard let memory = records[hit.id], admits(memory, request) else { return nil }
                return ScoredMemory(memory: memory, score: hit.score)
            }
        }
        return Array(results.prefix(wanted))
    }

    private func keywordCandidates(_ query: KeywordQuery, _ request: RecallRequest, limit: Int) async throws -> [ScoredMemory] {
        let found = try await backend(.storage) {
            try await storage.keywordSearch(namespace: request.namespace, query: query, type: request.type, limit: limit)
        }
        return found.filter { admits($0, request) }
            .map { ScoredMemory(memory: $0, score: query.score($0.payload)) }
            .sorted(by: Self.ranking)
    }

    /// The record is authoritative: an index that lags behind never lets a filtered-out, expired or
    /// foreign memory through.
    private func admits(_ memory: Memory, _ request: RecallRequest) -> Bool {
        memory.namespace == request.namespace && !memory.isExpired(at: now())
            && (request.type == nil || memory.type == request.type)
            && PayloadFilter.matches(memory.payload, request.filters)
    }

    static func ranking(_ a: ScoredMemory, _ b: ScoredMemory) -> Bool {
        if a.score != b.score { return a.score > b.score }
        return a.memory.coordinate.canonical < b.memory.coordinate.canonical
    }

    private func checkRecall(_ request: RecallRequest, needsQuery: Bool = false) throws {
        guard request.topK >= 1, request.topK <= options.maxTopK else {
            throw EngineError.invalid("top_k must be between 1 and \(options.maxTopK)")
        }
        if needsQuery, request.query.isEmpty { throw EngineError.invalid("the search term is empty") }
        guard request.keywordBoost.isFinite, request.keywordBoost >= 0 else {
            throw EngineError.invalid("boost must be a finite number >= 0")
        }
        if let minScore = request.minScore, !minScore.isFinite { throw EngineError.invalid("min_score must be finite") }
    }

    // MARK: Graph

    public func link(namespace: String, _ link: Link) async throws {
        guard link.weight.isFinite, link.weight >= 0 else { throw EngineError.invalid("weight must be a finite number >= 0") }
        guard !link.type.isEmpty, link.type.count <= 64 else { throw EngineError.invalid("link type must be 1 to 64 characters") }
        for end in [link.from, link.to] where try await get(namespace: namespace, coordinate: end) == nil {
            throw EngineError.notFound("no memory at \(end) in namespace \(namespace)")
        }
        try await backend(.storage) { try await storage.addLink(namespace: namespace, link: link) }
    }

    /// Outgoing (or incoming) links whose other end is still alive.
    public func neighbors(
        namespace: String, of coordinate: Coordinate, direction: LinkDirection = .outgoing, type: String?, limit: Int
    ) async throws -> [Link] {
        let limit = try checkedLimit(limit, max: options.maxListLimit)
        guard try await get(namespace: namespace, coordinate: coordinate) != nil else {
            throw EngineError.notFound("no memory at \(coordinate) in namespace \(namespace)")
        }
        let links = try await backend(.storage) {
            switch direction {
            case .outgoing: try await storage.links(namespace: namespace, from: coordinate, type: type, limit: limit)
            case .incoming: try await storage.links(namespace: namespace, to: coordinate, type: type, limit: limit)
            }
        }
        let otherEnd = { (link: Link) in MemoryID.make(namespace: namespace, coordinate: direction == .outgoing ? link.to : link.from) }
        let alive = try await load(ids: links.map(otherEnd), namespace: namespace)
        return links.filter { alive[otherEnd($0)] != nil }
    }

    /// Cheapest path by summed link weight using at most `maxDepth` links, or nil when there is none.
    public func shortestPath(namespace: String, from start: Coordinate, to goal: Coordinate, type: String?, maxDepth: Int? = nil) async throws -> PathResult? {
        let depth = maxDepth ?? options.maxPathDepth
        guard depth >= 1, depth <= options.maxPathDepth else {
            throw EngineError.invalid("max_depth must be between 1 and \(options.maxPathDepth)")
        }
        for end in [start, goal] where try await get(namespace: namespace, coordinate: end) == nil {
            throw EngineError.notFound("no memory at \(end) in namespace \(namespace)")
        }
        var search = PathSearch(start: start, goal: goal, maxDepth: depth)
        while let node = search.nextToExpand() {
            let links = try await backend(.storage) {
                try await storage.links(namespace: namespace, from: node, type: type, limit: options.maxListLimit)
            }
            search.expand(node, links: links)
        }
        return search.result
    }

    // MARK: Import

    /// Stores records read from JSON Lines in one transaction; any bad line rejects the whole import.
    public func importLines(_ text: String, namespace: String) async throws -> Int {
        let decoder = SomaJSON.decoder()
        var drafts: [MemoryDraft] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                if let original = Self.originalExportLine(trimmed) {
                    drafts.append(try OriginalMemory.draft(original, namespace: namespace, maxDimensions: options.maxCoordinateDimensions))
                    continue
                }
                let record = try decoder.decode(ImportRecord.self, from: Data(trimmed.utf8))
                drafts.append(try record.draft(namespace: namespace, maxDimensions: options.maxCoordinateDimensions))
            } catch let error as OriginalMemory.Refused {
                throw EngineError.invalid("line \(number + 1): \(error.description)")
            } catch let error as EngineError {
                throw EngineError.invalid("line \(number + 1): \(error.description)")
            } catch {
                let problem = (error as? DecodingError).flatMap(DecodingProblem.describe) ?? "malformed JSON"
                throw EngineError.invalid("line \(number + 1): not a memory record (\(problem))")
            }
        }
        return try await store(drafts).count
    }

    /// A line of the original service's export: the memory itself, its fields beside its
    /// `coordinate` and `memory_type`, where this build's export nests them under `payload`.
    static func originalExportLine(_ line: String) -> JSONValue? {
        guard let value = try? JSONReader.value(Array(line.utf8)), value["coordinate"] != nil else { return nil }
        if case .object? = value["payload"] { return nil }
        return value
    }

    // MARK: Indexing

    /// Embeds the records and writes their points. Used by synchronous stores and by the consumer.
    public func index(_ memories: [Memory]) async throws {
        guard !memories.isEmpty else { return }
        let embedded = try await embeddings(of: memories.map(\.payload))
        let points = zip(memories, embedded).map { VectorPoint($0, vector: $1) }
        try await backend(.vector) { try await vectors.upsert(points) }
    }

    /// One vector per payload, of the embedder's dimension.
    private func embeddings(of payloads: [JSONObject]) async throws -> [[Float]] {
        let texts = payloads.map { EmbeddingText.of($0, fields: options.embedFields) }
        let embedded = try await backend(.embedder) { try await embedder.embed(texts) }
        guard embedded.count == payloads.count, embedded.allSatisfy({ $0.count == embedder.dimension }) else {
            throw EngineError.unavailable(capability: .embedder, reason: "embedder returned vectors of the wrong shape")
        }
        return embedded
    }

    // MARK: Cache

    private func cacheKey(_ id: UUID) -> String { "soma:mem:\(id.uuidString.lowercased())" }

    /// Lookups by result, for operators (and the benchmark's hit ratio) on /metrics.
    private static let cacheHits = Counter(label: "soma_cache_lookups_total", dimensions: [("result", "hit")])
    private static let cacheMisses = Counter(label: "soma_cache_lookups_total", dimensions: [("result", "miss")])

    private func cached(_ id: UUID) async -> Memory? {
        await cached([id])[0]
    }

    /// Cached records for the ids, in one cache round trip; nil where missing or unreadable.
    private func cached(_ ids: [UUID]) async -> [Memory?] {
        guard !ids.isEmpty else { return [] }
        let values = (try? await cache.get(ids.map(cacheKey))) ?? Array(repeating: nil, count: ids.count)
        let memories = values.map { bytes in bytes.flatMap(MemoryCacheCodec.decode) }
        let hits = memories.count { $0 != nil }
        Self.cacheHits.increment(by: hits)
        Self.cacheMisses.increment(by: memories.count - hits)
        return memories
    }

    /// A record's place in the cache's ordering: its update time, which storage keeps increasing.
    private func cacheOrder(_ memory: Memory) -> Int64 {
        Int64((memory.updatedAt.timeIntervalSince1970 * 1_000_000).rounded())
    }

    private func remember(_ memories: [Memory]) async {
        let entries = memories.map { CacheEntry(key: cacheKey($0.id), value: MemoryCacheCodec.encode($0), order: cacheOrder($0)) }
        try? await cache.put(entries, ttl: options.cacheTTL)
    }

    /// Tombstones that keep reads which began before the write from caching what it replaced:
    /// at the new record's order after a store, just past the old one's after a delete.
    private func invalidate(_ memories: [Memory], deleted: Bool) async {
        let entries = memories.map { CacheEntry(key: cacheKey($0.id), value: nil, order: cacheOrder($0) + (deleted ? 1 : 0)) }
        try? await cache.put(entries, ttl: options.cacheTTL)
    }

    /// Records by id through the cache; misses are read from storage in one call and cached.
    private func load(ids: [UUID], namespace: String) async throws -> [UUID: Memory] {
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
            throw EngineError.invalid(CoordinateError.tooManyDimensions(draft.coordinate.dimensions, max: options.maxCoordinateDimensions).description)
        }
        guard JSONValue.object(draft.payload).depth <= options.maxPayloadDepth else {
            throw EngineError.invalid("payload is nested deeper than \(options.maxPayloadDepth) levels")
        }
        guard draft.importance.isFinite else { throw EngineError.invalid("importance must be a finite number") }
        if let expiry = draft.expiresAt, !expiry.timeIntervalSince1970.isFinite {
            throw EngineError.invalid("expires_at is not a valid time")
        }
    }

    private func checkedLimit(_ limit: Int, max: Int) throws -> Int {
        guard limit >= 1, limit <= max else { throw EngineError.invalid("limit must be between 1 and \(max)") }
        return limit
    }
}
