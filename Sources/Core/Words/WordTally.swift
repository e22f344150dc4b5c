/// Sums BM25 per memory from postings a storage reads, for storages that rank in process.
/// A word held by more than `WordSearchBounds.postingsPerWord` memories is read for its strongest
/// holders only; `completing` then adds its exact weight to the leading candidates that hold it
/// beyond what was read, so they rank as exact BM25 would rank them.
/// Candidates are kept sorted by document and each word's holders merged in: a hashed table per
/// search cost about 110 ns a holder in the service under perf (a cache miss on each insert), a
/// merge reads and writes memory in order.
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

    /// A memory, its score so far and the words counted in it.
    @usableFromInline struct Candidate: Sendable {
        @usableFromInline var document: Document
        @usableFromInline var score: Double
        @usableFromInline var counted: UInt64

        @inlinable init(document: Document, score: Double, counted: UInt64) {
            self.document = document
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
    /// Every memory holding a word added so far, sorted by document.
    @usableFromInline var candidates: [Candidate] = []

    /// `idf` for the words held by some memory; `required` the words every match must hold.
    @inlinable public init(idf: [String: Double], required: [String], scoring: BM25, averageLength: Double) {
        var words: [String: (idf: Double, bit: UInt64)] = [:]
        for (index, word) in idf.keys.sorted().prefix(64).enumerated() { words[word] = (idf[word]!, 1 << UInt64(index)) }
        self.words = words
        requiredMask = required.reduce(0) { $0 | (words[$1]?.bit ?? 0) }
        self.scoring = scoring
        self.averageLength = averageLength
    }

    /// One posting: for a few (the completion's); a word's many holders go through `add(_:holders:)`.
    @inlinable public mutating func add(_ posting: Posting) {
        guard let word = words[posting.term] else { return }
        let gained = scoring.termScore(idf: word.idf, frequency: posting.frequency, length: posting.length, averageLength: averageLength)
        let place = position(of: posting.document)
        if place < candidates.count, candidates[place].document == posting.document {
            candidates[place].add(gained, word.bit)
        } else {
            candidates.insert(Candidate(document: posting.document, score: gained, counted: word.bit), at: place)
        }
    }

    /// A word's holders (any order; sorted by document, as `WordHeads` keeps them, they are not
    /// sorted again), merged into the candidates with the word looked up once.
    @inlinable public mutating func add(_ term: String, holders: some Sequence<WordHolder<Document>>) {
        guard let word = words[term] else { return }
        var holders = Array(holders)
        if zip(holders, holders.dropFirst()).contains(where: { $0.document > $1.document }) { holders.sort { $0.document < $1.document } }
        var merged: [Candidate] = []
        merged.reserveCapacity(candidates.count + holders.count)
        var old = 0, new = 0
        while new < holders.count {
            let holder = holders[new]
            if old < candidates.count, candidates[old].document < holder.document {
                merged.append(candidates[old])
                old += 1
                continue
            }
            let gained = scoring.termScore(idf: word.idf, frequency: Int(holder.frequency), length: Int(holder.length), averageLength: averageLength)
            if old < candidates.count, candidates[old].document == holder.document {
                var candidate = candidates[old]
                candidate.add(gained, word.bit)
                merged.append(candidate)
                old += 1
            } else if merged.last?.document == holder.document {
                merged[merged.count - 1].add(gained, word.bit)  // the same memory twice in one list
            } else {
                merged.append(Candidate(document: holder.document, score: gained, counted: word.bit))
            }
            new += 1
        }
        merged.append(contentsOf: candidates[old...])
        candidates = merged
    }

    /// Where `document` is or would go in the sorted candidates.
    @inlinable func position(of document: Document) -> Int {
        var low = 0, high = candidates.count
        while low < high {
            let middle = (low + high) / 2
            if candidates[middle].document < document { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The leading candidates and, of `truncated` words (read only in part), those each does not
    /// show yet: what `add` needs to make their scores exact.
    @inlinable public func unread(of truncated: [String], among count: Int) -> (documents: [Document], terms: [String]) {
        let mask = truncated.reduce(UInt64(0)) { $0 | (words[$1]?.bit ?? 0) }
        guard mask != 0 else { return ([], []) }
        return (best(count, admitting: { _ in true }).filter { $0.counted & mask != mask }.map(\.document), truncated)
    }

    /// Best first, ties by document; with `requiringAll`, only documents holding every required
    /// word; with `best`, only that many (the rest neither kept nor sorted: a query's common words
    /// bring thousands of candidates for a page of ten).
    @inlinable public func ranked(requiringAll: Bool = true, best count: Int? = nil) -> [Ranked] {
        best(count) { !requiringAll || $0.counted & requiredMask == requiredMask }.map { Ranked(document: $0.document, score: $0.score) }
    }

    /// The admitted candidates, best first: `count` of them selected, or all sorted.
    @inlinable func best(_ count: Int?, admitting admits: (Candidate) -> Bool) -> [Candidate] {
        var kept: [Candidate] = []
        kept.reserveCapacity(min(count ?? candidates.count, candidates.count))
        for candidate in candidates where admits(candidate) {
            if let count { KeptBest.offer(candidate, to: &kept, limit: count, by: Self.precedes) } else { kept.append(candidate) }
        }
        if count == nil { kept.sort(by: Self.precedes) }
        return kept
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

    @inlinable static func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
        a.score != b.score ? a.score > b.score : a.document < b.document
    }
}

extension WordTally.Candidate {
    /// Adds a word's weight unless it was counted already.
    @inlinable mutating func add(_ gained: Double, _ bit: UInt64) {
        guard counted & bit == 0 else { return }
        score += gained
        counted |= bit
    }
}
