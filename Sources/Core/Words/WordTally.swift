/// Sums BM25 per memory from postings a storage reads, for storages that rank in process.
/// A word held by more than `WordSearchBounds.postingsPerWord` memories is read for its strongest
/// holders only; `completing` then adds its exact weight to the leading candidates that hold it
/// beyond what was read, so they rank as exact BM25 would rank them.
/// Inlinable, so each storage gets a copy specialised for its document key (unspecialised, the
/// sort looked up tuple metadata on every comparison: most of a query's CPU under perf).
public struct WordTally<Document: Hashable & Comparable & Sendable>: Sendable {
    /// A memory and its score.
    public struct Ranked: Sendable {
        public var document: Document
        public var score: Double

        @inlinable public init(document: Document, score: Double) {
            self.document = document
            self.score = score
        }
    }

    @usableFromInline struct Tally: Sendable {
        @usableFromInline var score: Double
        @usableFromInline var counted: UInt64

        @inlinable init(score: Double, counted: UInt64) {
            self.score = score
            self.counted = counted
        }
    }

    public struct Posting: Sendable {
        public var term: String
        public var document: Document
        public var frequency: Int
        public var length: Int

        @inlinable public init(term: String, document: Document, frequency: Int, length: Int) {
            self.term = term
            self.document = document
            self.frequency = frequency
            self.length = length
        }
    }

    /// Each word's weight and bit (queries hold at most `WordSearchBounds.queryWords` words).
    @usableFromInline let words: [String: (idf: Double, bit: UInt64)]
    @usableFromInline let requiredMask: UInt64
    @usableFromInline let scoring: BM25
    @usableFromInline let averageLength: Double
    /// Per memory: its score so far and the words counted in it.
    @usableFromInline var tallies: [Document: Tally] = [:]

    /// `idf` for the words held by some memory; `required` the words every match must hold.
    @inlinable public init(idf: [String: Double], required: [String], scoring: BM25, averageLength: Double) {
        var words: [String: (idf: Double, bit: UInt64)] = [:]
        for (index, word) in idf.keys.sorted().prefix(64).enumerated() { words[word] = (idf[word]!, 1 << UInt64(index)) }
        self.words = words
        requiredMask = required.reduce(0) { $0 | (words[$1]?.bit ?? 0) }
        self.scoring = scoring
        self.averageLength = averageLength
    }

    @inlinable public mutating func add(_ posting: Posting) {
        guard let word = words[posting.term] else { return }
        let gained = scoring.termScore(idf: word.idf, frequency: posting.frequency, length: posting.length, averageLength: averageLength)
        tallies[posting.document, default: Tally(score: 0, counted: 0)].add(gained, word.bit)
    }

    /// The leading candidates and, of `truncated` words (read only in part), those each does not
    /// show yet: what `add` needs to make their scores exact.
    @inlinable public func unread(of truncated: [String], among count: Int) -> (documents: [Document], terms: [String]) {
        let mask = truncated.reduce(UInt64(0)) { $0 | (words[$1]?.bit ?? 0) }
        guard mask != 0 else { return ([], []) }
        let leading = ranked(requiringAll: false).prefix(count).map(\.document)
        return (leading.filter { tallies[$0]!.counted & mask != mask }, truncated)
    }

    /// Best first, ties by document; with `requiringAll`, only documents holding every required word.
    @inlinable public func ranked(requiringAll: Bool = true) -> [Ranked] {
        var ranked: [Ranked] = []
        ranked.reserveCapacity(tallies.count)
        for (document, tally) in tallies where !requiringAll || tally.counted & requiredMask == requiredMask {
            ranked.append(Ranked(document: document, score: tally.score))
        }
        ranked.sort { $0.score != $1.score ? $0.score > $1.score : $0.document < $1.document }
        return ranked
    }
}

extension WordTally.Tally {
    /// Adds a word's weight unless it was counted already.
    @inlinable mutating func add(_ gained: Double, _ bit: UInt64) {
        guard counted & bit == 0 else { return }
        score += gained
        counted |= bit
    }
}
