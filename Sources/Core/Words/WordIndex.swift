import Foundation

/// An inverted index of one namespace's memories held in memory: the in-process backend's word
/// search, and the statement of what a storage's word search must return.
public struct WordIndex: Sendable {
    private var documents: [UUID: DocumentWords] = [:]
    private var postings: [String: [UUID: Int]] = [:]
    private var totalLength = 0

    public init() {}

    public mutating func set(_ id: UUID, _ words: DocumentWords) {
        remove(id)
        documents[id] = words
        totalLength += words.length
        for (term, frequency) in words.frequencies { postings[term, default: [:]][id] = frequency }
    }

    public mutating func remove(_ id: UUID) {
        guard let old = documents.removeValue(forKey: id) else { return }
        totalLength -= old.length
        for term in old.frequencies.keys {
            postings[term]?[id] = nil
            if postings[term]?.isEmpty == true { postings[term] = nil }
        }
    }

    /// `search` over indexed `records`: the hits as memories, narrowed to `type`.
    public func matches(_ query: WordQuery, scoring bm25: BM25, type: MemoryType?, limit: Int, in records: [UUID: Memory]) -> WordMatches {
        let found = search(query, scoring: bm25, limit: limit) { type == nil || records[$0]?.type == type }
        return WordMatches(
            hits: found.hits.compactMap { hit in records[hit.id].map { ScoredMemory(memory: $0, score: hit.score) } }, fullScore: found.fullScore)
    }

    /// Documents holding any query word (and every phrase word), best first; ties by id.
    /// `admits` filters after scoring, so statistics cover the whole namespace.
    public func search(_ query: WordQuery, scoring bm25: BM25, limit: Int, admits: (UUID) -> Bool = { _ in true }) -> (
        hits: [(id: UUID, score: Double)], fullScore: Double
    ) {
        let count = documents.count
        let average = count > 0 ? Double(totalLength) / Double(count) : 0
        var scores: [UUID: Double] = [:]
        var fullScore = 0.0
        for term in query.terms {
            let holding = postings[term] ?? [:]
            let idf = bm25.idf(documents: count, holding: holding.count)
            fullScore += idf
            for (id, frequency) in holding {
                scores[id, default: 0] += bm25.termScore(idf: idf, frequency: frequency, length: documents[id]!.length, averageLength: average)
            }
        }
        let required = query.requiredTerms
        let ranked = scores.filter { id, _ in required.allSatisfy { postings[$0]?[id] != nil } && admits(id) }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.uuidString.lowercased() < $1.key.uuidString.lowercased() }
            .prefix(limit)
            .map { (id: $0.key, score: $0.value) }
        return (Array(ranked), fullScore)
    }
}
