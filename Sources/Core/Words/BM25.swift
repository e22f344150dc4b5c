import Foundation

/// Okapi BM25 as Lucene and bm25s compute it: idf = ln(1 + (N - n + 0.5) / (n + 0.5)) with N
/// documents in the namespace and n holding the word; a word counted tf times in a document of
/// `length` words adds idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / averageLength)).
public struct BM25: Sendable, Equatable {
    /// How fast repeats of a word stop adding (`SOMA_BM25_K1`).
    public var k1: Double
    /// How much a long document is discounted (`SOMA_BM25_B`, 0 = not at all, 1 = fully).
    public var b: Double

    public static let standard = BM25(k1: 1.2, b: 0.75)

    public init(k1: Double, b: Double) {
        self.k1 = k1
        self.b = b
    }

    public func idf(documents: Int, holding: Int) -> Double {
        log(1 + (Double(documents) - Double(holding) + 0.5) / (Double(holding) + 0.5))
    }

    @inlinable public func termScore(idf: Double, frequency: Int, length: Int, averageLength: Double) -> Double {
        let tf = Double(frequency)
        let norm = 1 - b + b * Double(length) / max(averageLength, 1e-9)
        return idf * tf * (k1 + 1) / (tf + k1 * norm)
    }

    /// A posting's strength for choosing which holders of a very common word are read
    /// (`WordSearchBounds`): its BM25 term weight with the usual k1 and b and the namespace's
    /// average length when it was written. Only an order; scores always use the current figures.
    public static func impact(frequency: Int, length: Int, averageLength: Double) -> Double {
        standard.termScore(idf: 1, frequency: frequency, length: length, averageLength: averageLength > 0 ? averageLength : Double(max(length, 1)))
    }
}

/// What keeps one word search cheap at any size.
public enum WordSearchBounds {
    /// A word held by more memories than this is read for this many of its strongest holders (by
    /// `BM25.impact`): such a word's idf is low, and reading all its holders would cost time in
    /// proportion to the namespace. The leading candidates then get its exact weight (`WordTally`),
    /// so only a memory that holds nothing but such words and is none of their strongest holders
    /// can be missed. Below it, ranking is exact BM25.
    public static let postingsPerWord = 1000
    /// How many leading candidates get the exact weight of such a word when they hold it beyond
    /// what was read.
    public static func completedCandidates(_ limit: Int) -> Int { max(4 * limit, 100) }
    /// How many ranked memories to read records for at once when `wanted` more must pass: with a
    /// type filter, more than wanted (records of other types are dropped).
    public static func pageSize(_ wanted: Int, typed: Bool) -> Int {
        typed ? max(2 * wanted, 32) : wanted
    }
    /// Query words beyond this many are ignored: a pasted page must not become a huge statement.
    public static let queryWords = 64
}

/// What word search found in one namespace: memories with their raw BM25 scores, best first, and
/// `fullScore`, the sum of the query words' idf: what a memory of average length holding each
/// query word once scores. Dividing by it puts scores on a scale an agent can threshold.
public struct WordMatches: Sendable {
    public var hits: [ScoredMemory]
    public var fullScore: Double

    public init(hits: [ScoredMemory], fullScore: Double) {
        self.hits = hits
        self.fullScore = fullScore
    }

    public static let none = WordMatches(hits: [], fullScore: 0)

    /// `score / fullScore`, capped at 1.
    public func normalised(_ score: Double) -> Double {
        fullScore > 0 ? min(1, score / fullScore) : 0
    }
}

/// How a memory's text enters the word index: its words' counts and its length (stop words left out).
public struct DocumentWords: Sendable, Equatable {
    public var frequencies: [String: Int]
    public var length: Int

    public init(text: String) {
        let terms = WordTokenizer.terms(text)
        frequencies = terms.reduce(into: [:]) { $0[$1, default: 0] += 1 }
        length = terms.count
    }

    public init(_ payload: JSONObject) {
        self.init(text: KeywordQuery.searchableText(payload))
    }
}
