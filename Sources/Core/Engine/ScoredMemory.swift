/// A recall hit: the record and its score (higher is better; the scale depends on the mode).
public struct ScoredMemory: Sendable, Equatable {
    public var memory: Memory
    public var score: Double

    public init(memory: Memory, score: Double) {
        self.memory = memory
        self.score = score
    }
}

public enum SearchMode: String, Sendable, Codable, CaseIterable {
    case vector, keyword, hybrid
}

public struct RecallRequest: Sendable {
    public var namespace: String
    public var query: String
    public var topK: Int
    public var type: MemoryType?
    public var filters: JSONObject
    public var minScore: Double?
    /// Only `keyword` and `hybrid` use these.
    public var exact: Bool
    public var caseSensitive: Bool
    /// Extra keyword terms fused into a hybrid recall, and the weight of keyword ranks.
    public var terms: [String]
    public var keywordBoost: Double

    public init(
        namespace: String, query: String, topK: Int = 5, type: MemoryType? = nil, filters: JSONObject = [:],
        minScore: Double? = nil, exact: Bool = false, caseSensitive: Bool = false, terms: [String] = [],
        keywordBoost: Double = 1
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
    }
}

public struct PathResult: Sendable, Equatable {
    public var coordinates: [Coordinate]
    public var totalWeight: Double
}
