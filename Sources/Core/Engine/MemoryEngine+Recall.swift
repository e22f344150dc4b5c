import Foundation

/// Recall by meaning, by words and both, with filters.
extension MemoryEngine {
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
    func vectorCandidates(_ request: RecallRequest, limit: Int, wanted: Int? = nil) async throws -> [ScoredMemory] {
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

    func keywordCandidates(_ query: KeywordQuery, _ request: RecallRequest, limit: Int) async throws -> [ScoredMemory] {
        let found = try await backend(.storage) {
            try await storage.keywordSearch(namespace: request.namespace, query: query, type: request.type, limit: limit)
        }
        return found.filter { admits($0, request) }
            .map { ScoredMemory(memory: $0, score: query.score($0.payload)) }
            .sorted(by: Self.ranking)
    }

    /// The record is authoritative: an index that lags behind never lets a filtered-out, expired or
    /// foreign memory through.
    func admits(_ memory: Memory, _ request: RecallRequest) -> Bool {
        memory.namespace == request.namespace && !memory.isExpired(at: now())
            && (request.type == nil || memory.type == request.type)
            && PayloadFilter.matches(memory.payload, request.filters)
    }

    static func ranking(_ a: ScoredMemory, _ b: ScoredMemory) -> Bool {
        if a.score != b.score { return a.score > b.score }
        return a.memory.coordinate.canonical < b.memory.coordinate.canonical
    }

    func checkRecall(_ request: RecallRequest, needsQuery: Bool = false) throws {
        guard request.topK >= 1, request.topK <= options.maxTopK else {
            throw EngineError.invalid("top_k must be between 1 and \(options.maxTopK)")
        }
        if needsQuery, request.query.isEmpty { throw EngineError.invalid("the search term is empty") }
        guard request.keywordBoost.isFinite, request.keywordBoost >= 0 else {
            throw EngineError.invalid("boost must be a finite number >= 0")
        }
        if let minScore = request.minScore, !minScore.isFinite { throw EngineError.invalid("min_score must be finite") }
    }
}
