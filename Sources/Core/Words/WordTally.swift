/// Sums BM25 per memory from postings a storage reads, for storages that rank in process.
/// A word held by more than `WordSearchBounds.postingsPerWord` memories is read for its strongest
/// holders only; `completing` then adds its exact weight to the leading candidates that hold it
/// beyond what was read, so they rank as exact BM25 would rank them.
public struct WordTally<Document: Hashable & Comparable & Sendable>: Sendable {
    public struct Posting: Sendable {
        public var term: String
        public var document: Document
        public var frequency: Int
        public var length: Int

        public init(term: String, document: Document, frequency: Int, length: Int) {
            self.term = term
            self.document = document
            self.frequency = frequency
            self.length = length
        }
    }

    let idf: [String: Double]
    let required: Set<String>
    let scoring: BM25
    let averageLength: Double
    private var scores: [Document: Double] = [:]
    private var seen: [Document: Set<String>] = [:]

    /// `idf` for the words held by some memory; `required` the words every match must hold.
    public init(idf: [String: Double], required: [String], scoring: BM25, averageLength: Double) {
        self.idf = idf
        self.required = Set(required)
        self.scoring = scoring
        self.averageLength = averageLength
    }

    public mutating func add(_ posting: Posting) {
        guard let weight = idf[posting.term], seen[posting.document, default: []].insert(posting.term).inserted else { return }
        scores[posting.document, default: 0] += scoring.termScore(idf: weight, frequency: posting.frequency, length: posting.length, averageLength: averageLength)
    }

    /// The leading candidates and, of `truncated` words (read only in part), those each does not
    /// show yet: what `add` needs to make their scores exact.
    public func unread(of truncated: [String], among count: Int) -> (documents: [Document], terms: [String]) {
        guard !truncated.isEmpty else { return ([], []) }
        let leading = ranked(requiringAll: false).prefix(count).map(\.document)
        return (leading.filter { document in truncated.contains { !seen[document]!.contains($0) } }, truncated)
    }

    /// Best first, ties by document; with `requiringAll`, only documents holding every required word.
    public func ranked(requiringAll: Bool = true) -> [(document: Document, score: Double)] {
        scores.filter { document, _ in !requiringAll || required.isSubset(of: seen[document]!) }
            .map { (document: $0.key, score: $0.value) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.document < $1.document }
    }
}
