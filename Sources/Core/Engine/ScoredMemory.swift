/// A recall hit: the record and its score (higher is better; see `SearchMode` for each mode's scale).
public struct ScoredMemory: Sendable, Equatable {
    public var memory: Memory
    public var score: Double

    public init(memory: Memory, score: Double) {
        self.memory = memory
        self.score = score
    }
}

/// How recall finds memories, and what its scores mean.
/// - vector: by meaning; the score is the cosine similarity of query and memory (-1...1).
/// - keyword: by words (BM25); the score is the memory's BM25 over the query's full score (the
///   sum of its words' idf, what a memory of average length holding each word once gets), capped at 1.
/// - hybrid: both, fused (see `HybridFusion`); the score is in [0, 1], and a memory holding a string
///   value equal to the query scores 1.
public enum SearchMode: String, Sendable, Codable, CaseIterable, NamedChoice {
    case vector, keyword, hybrid
}

/// How hybrid recall combines its two rankings.
/// - weighted: (1 - w) * max(0, cosine) + w * (keyword score)², w the keyword weight. Both parts
///   are absolute, so the score means the same across queries of a namespace and can be thresholded.
/// - rrf: reciprocal rank fusion, sum of weight / (60 + rank), divided by its largest possible value;
///   in [0, 1] but a rank, not a measure of relevance.
public enum HybridFusion: String, Sendable, Codable, CaseIterable, SettingChoice, NamedChoice {
    case weighted, rrf
}

public struct RecallRequest: Sendable {
    public var namespace: String
    public var query: String
    public var topK: Int
    public var type: MemoryType?
    public var filters: JSONObject
    public var minScore: Double?
    /// Keyword mode: match whole payload values (`exact`) or substrings instead of words, as the
    /// original's keyword search did; hybrid's value-match bonus honours `caseSensitive`.
    public var exact: Bool
    public var caseSensitive: Bool
    /// Extra words searched with the query (the original's hybrid `terms`).
    public var terms: [String]
    /// Multiplies the keyword side's weight in hybrid recall (the original's `boost`).
    public var keywordBoost: Double
    /// Hybrid only: the keyword side's weight in [0, 1] and the fusion; nil takes the service's setting.
    public var keywordWeight: Double?
    public var fusion: HybridFusion?

    public init(
        namespace: String, query: String, topK: Int = 5, type: MemoryType? = nil, filters: JSONObject = [:],
        minScore: Double? = nil, exact: Bool = false, caseSensitive: Bool = false, terms: [String] = [],
        keywordBoost: Double = 1, keywordWeight: Double? = nil, fusion: HybridFusion? = nil
    ) {
        self.namespace = namespace
        self.query = query
        self.topK = topK
        self.type = type
        self.filters = filters
        self.minScore = minScore
        self.exact = exact
        self.caseSensitive = caseSensitive
        self.terms = terms
        self.keywordBoost = keywordBoost
        self.keywordWeight = keywordWeight
        self.fusion = fusion
    }
}

public struct PathResult: Sendable, Equatable {
    public var coordinates: [Coordinate]
    public var totalWeight: Double
}
