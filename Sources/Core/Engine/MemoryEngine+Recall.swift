import Foundation

/// Recall by meaning, by words and both, with filters.
extension MemoryEngine {
    public func recall(_ request: RecallRequest) async throws -> [ScoredMemory] {
        try checkRecall(request)
        let hits = try await vectorCandidates(request, limit: request.topK * options.overFetch, wanted: request.topK)
        return hits.filter { $0.score >= (request.minScore ?? -.infinity) }
    }

    /// Word search (BM25 over the query's words, quoted phrases as written); with `exact` or
    /// `caseSensitive`, the original's value matching instead (`valueSearch`).
    public func keywordSearch(_ request: RecallRequest) async throws -> [ScoredMemory] {
        try checkRecall(request, needsQuery: true)
        if request.exact || request.caseSensitive { return try await valueSearch(request) }
        let found = try await wordCandidates(request, limit: request.topK)
        return Array(found.filter { $0.score >= (request.minScore ?? -.infinity) }.prefix(request.topK))
    }

    /// The original service's keyword search: payload string values equal to (`exact`) or
    /// containing the query, an equal value first.
    public func valueSearch(_ request: RecallRequest) async throws -> [ScoredMemory] {
        try checkRecall(request, needsQuery: true)
        let query = KeywordQuery(term: request.query, exact: request.exact, caseSensitive: request.caseSensitive)
        let found = try await backend(.storage) {
            try await storage.keywordSearch(namespace: request.namespace, query: query, type: request.type, limit: request.topK)
        }
        let scored = Self.ranked(found.filter { admits($0, request) }.map { ScoredMemory(memory: $0, score: query.score($0.payload)) })
        return Array(scored.filter { $0.score >= (request.minScore ?? -.infinity) }.prefix(request.topK))
    }

    /// Meaning and words together, the two searches run at once and fused (see `HybridScoring`);
    /// a memory holding a payload string value equal to the query scores 1 and ranks first.
    public func hybridRecall(_ request: RecallRequest) async throws -> [ScoredMemory] {
        try checkRecall(request)
        let pool = max(request.topK * options.overFetch, 30)
        async let meaning = meaningSearch(request, limit: pool)
        let wordHits = try await wordCandidates(request, limit: pool)
        let (queryVector, nearest) = try await meaning
        let scoring = HybridScoring(
            fusion: request.fusion ?? options.hybridFusion, keywordWeight: request.keywordWeight ?? options.hybridKeywordWeight,
            boost: request.keywordBoost, rrfK: options.rrfK)
        // Word search's records are at hand. The nearest neighbours' are loaded only for those that
        // reach the answer when weighted scores need no record and the index holds each payload
        // (the exact-value check reads it); otherwise all of them, as reciprocal rank fusion ranks
        // equal scores by coordinate.
        var records = Dictionary(wordHits.map { ($0.memory.id, $0.memory) }, uniquingKeysWith: { a, _ in a })
        var meaningHits: [ScoredID]
        if scoring.fusion == .weighted, nearest.allSatisfy({ $0.payload != nil }) {
            meaningHits = nearest.map { ScoredID(id: $0.id, score: $0.score) }
        } else {
            let admitted = try await admitted(nearest, wanted: pool, request, known: records)
            for hit in admitted { records[hit.memory.id] = hit.memory }
            meaningHits = admitted.map { ScoredID(id: $0.memory.id, score: $0.score) }
        }
        // A memory found by its words but outside the nearest neighbours still has a meaning score.
        let seen = Set(meaningHits.map(\.id))
        let wordOnly = wordHits.filter { !seen.contains($0.memory.id) }
        if let queryVector, !wordOnly.isEmpty {
            let similar = try await backend(.vector) {
                try await vectors.similarities(to: queryVector, ids: wordOnly.map(\.memory.id), namespace: request.namespace)
            }
            meaningHits += wordOnly.compactMap { hit in similar[hit.memory.id].map { ScoredID(id: hit.memory.id, score: $0) } }
        }
        if scoring.fusion == .rrf {
            let ordered = Self.ranked(meaningHits.compactMap { hit in records[hit.id].map { ScoredMemory(memory: $0, score: hit.score) } })
            meaningHits = ordered.map { ScoredID(id: $0.memory.id, score: $0.score) }
        }
        let fused = scoring.fuse(vector: meaningHits, keyword: wordHits.map { ScoredID(id: $0.memory.id, score: $0.score) })
        let indexPayloads = Dictionary(nearest.compactMap { hit in hit.payload.map { (hit.id, $0) } }, uniquingKeysWith: { a, _ in a })
        return try await leading(fused, records: records, indexPayloads: indexPayloads, request)
    }

    /// The request's best `topK` of hybrid recall's fused scores, an exact-value match first. Only
    /// the records of candidates that reach the answer are loaded; one that fails the request
    /// (expired, filtered out, gone) drops out and the next moves up.
    private func leading(
        _ fused: [UUID: Double], records known: [UUID: Memory], indexPayloads: [UUID: JSONObject], _ request: RecallRequest
    ) async throws -> [ScoredMemory] {
        let exactQuery = KeywordQuery(term: request.query, exact: true, caseSensitive: request.caseSensitive)
        var records = known
        /// An exact-value match scores 1 and leads; the record's payload decides once it is loaded.
        func standing(_ id: UUID) -> Candidate {
            let payload = records[id]?.payload ?? indexPayloads[id]
            let exact = payload.map { exactQuery.score($0) > 0 } ?? false
            return Candidate(id: id, exact: exact, score: exact ? 1 : fused[id] ?? 0)
        }
        let minScore = request.minScore ?? -.infinity
        var candidates = fused.keys.map(standing).filter { $0.score >= minScore }
        while true {
            candidates.sort { a, b in a.exact != b.exact ? a.exact : a.score > b.score }
            // The leading `topK` and any that tie with the last of them: ties rank by coordinate.
            var reach = min(request.topK, candidates.count)
            while reach > 0, reach < candidates.count, candidates[reach].ties(candidates[reach - 1]) { reach += 1 }
            let leaders = candidates[..<reach]
            let unread = leaders.map(\.id).filter { records[$0] == nil }
            guard !unread.isEmpty else {
                let answer = leaders.compactMap { hit in records[hit.id].map { ScoredMemory(memory: $0, score: hit.score) } }
                return Array(Self.ranked(answer, first: Set(leaders.filter(\.exact).map(\.id))).prefix(request.topK))
            }
            let loaded = try await load(ids: unread, namespace: request.namespace)
            var dropped: Set<UUID> = []
            for id in unread {
                if let memory = loaded[id], admits(memory, request) { records[id] = memory } else { dropped.insert(id) }
            }
            // A record that failed the request drops out; one that passed is judged on its own payload.
            candidates = candidates.compactMap { hit in
                guard !dropped.contains(hit.id) else { return nil }
                let updated = loaded[hit.id] != nil ? standing(hit.id) : hit
                return updated.score >= minScore ? updated : nil
            }
        }
    }

    /// A hybrid recall candidate before its record is needed.
    private struct Candidate {
        var id: UUID
        var exact: Bool
        var score: Double

        func ties(_ other: Candidate) -> Bool { exact == other.exact && score == other.score }
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
        return Array(Self.ranked(rescored).prefix(request.topK))
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
        try await admitted(meaningSearch(request, limit: limit).hits, wanted: wanted ?? limit, request)
    }

    /// The query's vector (nil for an empty query) and the vector index's hits for `limit`
    /// candidates, best first, their records not loaded yet.
    func meaningSearch(_ request: RecallRequest, limit: Int) async throws -> (vector: [Float]?, hits: [VectorHit]) {
        guard !request.query.isEmpty else { return (nil, []) }
        let queryVector = try await backend(.embedder) { try await embedder.embedQuery(request.query) }
        guard queryVector.count == embedder.dimension else {
            throw EngineError.unavailable(capability: .embedder, reason: "embedder returned a vector of the wrong dimension")
        }
        let hits = try await backend(.vector) {
            try await vectors.search(
                VectorQuery(vector: queryVector, namespace: request.namespace, type: request.type, filters: request.filters, limit: limit))
        }
        return (queryVector, hits)
    }

    /// Up to `wanted` of the hits, in their order, with records that pass the request's filters;
    /// records in `known` are used as they are, the others loaded.
    func admitted(_ hits: [VectorHit], wanted: Int, _ request: RecallRequest, known: [UUID: Memory] = [:]) async throws -> [ScoredMemory] {
        // Load records a chunk at a time and stop once enough passed: most hits do, so the
        // over-fetched tail is rarely read.
        var results: [ScoredMemory] = []
        var next = hits[...]
        while results.count < wanted, !next.isEmpty {
            let chunk = next.prefix(max(wanted - results.count, 8))
            next = next.dropFirst(chunk.count)
            let records = try await load(ids: chunk.map(\.id).filter { known[$0] == nil }, namespace: request.namespace)
            results += chunk.compactMap { hit in
                guard let memory = known[hit.id] ?? records[hit.id], admits(memory, request) else { return nil }
                return ScoredMemory(memory: memory, score: hit.score)
            }
        }
        return Array(results.prefix(wanted))
    }

    /// Up to `limit` admitted word-search hits, best first, scored in [0, 1] (`WordMatches.normalised`).
    /// Storage ranks by BM25; records it returns that fail a filter or a phrase are dropped, so it is
    /// asked for more when filters or phrases are present.
    func wordCandidates(_ request: RecallRequest, limit: Int) async throws -> [ScoredMemory] {
        let query = WordQuery(parsing: request.query, extraTerms: request.terms)
        guard !query.matchesNothing else { return [] }
        let narrowed = !request.filters.isEmpty || !query.phrases.isEmpty
        let matches = try await backend(.storage) {
            try await storage.wordSearchOrScan.wordSearch(
                namespace: request.namespace, query: query, scoring: options.bm25, type: request.type, limit: narrowed ? max(limit * 10, 200) : limit)
        }
        let kept = matches.hits.filter { admits($0.memory, request) && query.phrasesMatch(KeywordQuery.searchableText($0.memory.payload)) }
        return kept.prefix(limit).map { ScoredMemory(memory: $0.memory, score: matches.normalised($0.score)) }
    }

    /// The record is authoritative: an index that lags behind never lets a filtered-out, expired or
    /// foreign memory through.
    func admits(_ memory: Memory, _ request: RecallRequest) -> Bool {
        memory.namespace == request.namespace && !memory.isExpired(at: now())
            && (request.type == nil || memory.type == request.type)
            && PayloadFilter.matches(memory.payload, request.filters)
    }

    /// Best first: the memories in `first`, then higher scores, then (scores equal) the lower
    /// coordinate text. A coordinate's text is built only when its score ties, once per memory,
    /// and the sort moves indices rather than whole records.
    static func ranked(_ hits: [ScoredMemory], first: Set<UUID> = []) -> [ScoredMemory] {
        let leads = first.isEmpty ? [] : hits.map { first.contains($0.memory.id) }
        var texts = [String?](repeating: nil, count: hits.count)
        func text(_ index: Int) -> String {
            if let known = texts[index] { return known }
            let made = hits[index].memory.coordinate.canonical
            texts[index] = made
            return made
        }
        let order = hits.indices.sorted { a, b in
            if !leads.isEmpty, leads[a] != leads[b] { return leads[a] }
            if hits[a].score != hits[b].score { return hits[a].score > hits[b].score }
            return text(a) < text(b)
        }
        return order.map { hits[$0] }
    }

    func checkRecall(_ request: RecallRequest, needsQuery: Bool = false) throws {
        guard request.topK >= 1, request.topK <= options.maxTopK else {
            throw EngineError.invalid("top_k must be between 1 and \(options.maxTopK)")
        }
        if needsQuery, request.query.isEmpty { throw EngineError.invalid("the search term is empty") }
        guard request.keywordBoost.isFinite, request.keywordBoost >= 0 else {
            throw EngineError.invalid("boost must be a finite number >= 0")
        }
        if let weight = request.keywordWeight, !(weight >= 0 && weight <= 1) {
            throw EngineError.invalid("keyword_weight must be between 0 and 1")
        }
        if let minScore = request.minScore, !minScore.isFinite { throw EngineError.invalid("min_score must be finite") }
    }
}
