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

    /// Room for this many memories: growing the table step by step rehashed it as postings came.
    @inlinable public mutating func reserveCapacity(_ memories: Int) {
        tallies.reserveCapacity(memories)
    }

    @inlinable public mutating func add(_ posting: Posting) {
        add(posting.term, holders: CollectionOfOne(WordHolder(document: posting.document, frequency: posting.frequency, length: posting.length)))
    }

    /// A word's holders, the word looked up once for all of them rather than once per posting.
    @inlinable public mutating func add(_ term: String, holders: some Sequence<WordHolder<Document>>) {
        guard let word = words[term] else { return }
        for holder in holders {
            let gained = scoring.termScore(idf: word.idf, frequency: Int(holder.frequency), length: Int(holder.length), averageLength: averageLength)
            tallies[holder.document, default: Tally(score: 0, counted: 0)].add(gained, word.bit)
        }
    }

    /// The leading candidates and, of `truncated` words (read only in part), those each does not
    /// show yet: what `add` needs to make their scores exact.
    @inlinable public func unread(of truncated: [String], among count: Int) -> (documents: [Document], terms: [String]) {
        let mask = truncated.reduce(UInt64(0)) { $0 | (words[$1]?.bit ?? 0) }
        guard mask != 0 else { return ([], []) }
        let leading = ranked(requiringAll: false, best: count).map(\.document)
        return (leading.filter { tallies[$0]!.counted & mask != mask }, truncated)
    }

    /// Best first, ties by document; with `requiringAll`, only documents holding every required
    /// word; with `best`, only that many (the rest neither kept nor sorted: a query's common words
    /// bring thousands of candidates for a page of ten).
    @inlinable public func ranked(requiringAll: Bool = true, best: Int? = nil) -> [Ranked] {
        var ranked: [Ranked] = []
        ranked.reserveCapacity(min(best ?? tallies.count, tallies.count))
        for (document, tally) in tallies where !requiringAll || tally.counted & requiredMask == requiredMask {
            let candidate = Ranked(document: document, score: tally.score)
            if let best { KeptBest.offer(candidate, to: &ranked, limit: best, by: Self.precedes) } else { ranked.append(candidate) }
        }
        if best == nil { ranked.sort(by: Self.precedes) }
        return ranked
    }

    /// The ranking a page at a time (`RankedPages`), the first `likely` memories selected without
    /// sorting the rest.
    @inlinable public func pages(likely: Int) -> RankedPages {
        RankedPages(tally: self, selected: ranked(best: likely), likely: likely)
    }

    /// Best first, a page at a time: pages within the first selection come from it; a reader that
    /// goes past it (a type filter dropping most matches) gets the whole ranking, sorted once.
    public struct RankedPages: Sendable {
        @usableFromInline let tally: WordTally
        @usableFromInline var ranking: [Ranked]
        @usableFromInline var complete: Bool
        @usableFromInline var position = 0

        @inlinable init(tally: WordTally, selected: [Ranked], likely: Int) {
            self.tally = tally
            ranking = selected
            complete = selected.count < likely
        }

        /// A ranking of nothing.
        public static var none: RankedPages {
            RankedPages(tally: WordTally(idf: [:], required: [], scoring: .standard, averageLength: 0), selected: [], likely: 0)
        }

        /// The next `count` (fewer at the end; none once all were read).
        @inlinable public mutating func next(_ count: Int) -> ArraySlice<Ranked> {
            if position + count > ranking.count, !complete {
                ranking = tally.ranked()
                complete = true
            }
            let page = ranking[position..<min(position + count, ranking.count)]
            position += page.count
            return page
        }
    }

    @inlinable static func precedes(_ a: Ranked, _ b: Ranked) -> Bool {
        a.score != b.score ? a.score > b.score : a.document < b.document
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
