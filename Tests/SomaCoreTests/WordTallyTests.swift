import Foundation
import Testing
import ConformanceKit
import SomaCore

@Suite struct WordTallyTests {
    /// A tally over `documents` memories, each holding some of three words (few distinct scores, so
    /// ties are common and their order by document matters).
    static func tally(documents: Int, seed: Int) -> WordTally<Int64> {
        var tally = WordTally<Int64>(idf: ["a": 1.5, "b": 0.5, "c": 2], required: [], scoring: .standard, averageLength: 4)
        for document in 0..<Int64(documents) {
            for (index, term) in ["a", "b", "c"].enumerated() where (Int(document) * 7 + seed + index * 3) % (index + 2) == 0 {
                tally.add(.init(term: term, document: document, frequency: 1 + Int(document) % 2, length: 4))
            }
        }
        return tally
    }

    /// The best few, selected without sorting the rest, are what a full sort puts first.
    @Test(arguments: [0, 1, 10, 120, 5000])
    func theBestFewAreTheFullRankingsHead(best: Int) {
        let tally = Self.tally(documents: 3000, seed: best)
        let full = tally.ranked()
        #expect(full.count > 1000)
        let head = tally.ranked(best: best)
        #expect(head.map(\.document) == full.prefix(best).map(\.document))
        #expect(head.map(\.score) == full.prefix(best).map(\.score))
    }

    /// A word's holders added at once score as its postings added one by one.
    @Test func holdersAddedAtOnceScoreAsPostings() {
        var byPosting = WordTally<Int64>(idf: ["a": 1.5, "b": 0.5], required: ["b"], scoring: .standard, averageLength: 4)
        var byWord = byPosting
        let holders = (0..<Int64(50)).map { WordHolder(document: $0, frequency: 1 + Int($0) % 3, length: 2 + Int($0) % 5) }
        for holder in holders {
            byPosting.add(.init(term: "a", document: holder.document, frequency: Int(holder.frequency), length: Int(holder.length)))
        }
        byPosting.add(.init(term: "b", document: 7, frequency: 2, length: 3))
        byWord.add("a", holders: holders)
        byWord.add("b", holders: [WordHolder(document: 7, frequency: 2, length: 3)])
        byWord.add("unknown", holders: holders)
        #expect(byWord.ranked().map(\.document) == [7])
        #expect(byWord.ranked(requiringAll: false).map(\.document) == byPosting.ranked(requiringAll: false).map(\.document))
        #expect(byWord.ranked(requiringAll: false).map(\.score) == byPosting.ranked(requiringAll: false).map(\.score))
    }

    /// Lists in any order, overlapping, some holders in several lists and again one by one (the
    /// completion's postings), sum as BM25 sums each memory's words: each word counted once.
    @Test(arguments: [1, 2, 3])
    func mergedListsSumAsEachMemorysWords(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let idf = ["a": 1.5, "b": 0.5, "c": 2.0, "d": 0.25]
        var tally = WordTally<Int64>(idf: idf, required: [], scoring: .standard, averageLength: 4)
        var expected: [Int64: (score: Double, words: Set<String>)] = [:]
        func expect(_ term: String, _ holder: WordHolder<Int64>) {
            guard !expected[holder.document, default: (0, [])].words.contains(term) else { return }
            expected[holder.document, default: (0, [])].score += BM25.standard.termScore(
                idf: idf[term]!, frequency: Int(holder.frequency), length: Int(holder.length), averageLength: 4)
            expected[holder.document]!.words.insert(term)
        }
        for term in ["c", "a", "d", "b"] {
            let documents = (0..<400).map { _ in Int64(random.next() % 600) }
            let holders = Set(documents).map { WordHolder(document: $0, frequency: 1 + Int($0 % 3), length: 2 + Int($0 % 7)) }.shuffled(
                using: &random)
            holders.forEach { expect(term, $0) }
            tally.add(term, holders: holders)
            // Some of the same word's holders again, one by one: counted once.
            for holder in holders.prefix(20) {
                tally.add(.init(term: term, document: holder.document, frequency: Int(holder.frequency), length: Int(holder.length)))
            }
        }
        for document in [Int64(-5), 1_000, 300] {
            let holder = WordHolder(document: document, frequency: 2, length: 3)
            expect("d", holder)
            tally.add(.init(term: "d", document: document, frequency: 2, length: 3))
        }
        let ranked = tally.ranked(requiringAll: false)
        #expect(ranked.count == expected.count)
        for hit in ranked { #expect(abs(hit.score - expected[hit.document]!.score) < 1e-12) }
        #expect(
            ranked.map(\.document)
                == expected.sorted { $0.value.score != $1.value.score ? $0.value.score > $1.value.score : $0.key < $1.key }.map(\.key))
    }

    /// Read a page at a time, within the first selection and past it (a type filter that drops
    /// most matches), the pages join up to the full ranking, nothing repeated or skipped.
    @Test(arguments: [[10], [10, 10, 64, 1000, 5000], [3, 7, 100]])
    func pagesJoinUpToTheFullRanking(sizes: [Int]) {
        let tally = Self.tally(documents: 2000, seed: 3)
        let full = tally.ranked().map(\.document)
        var pages = tally.pages(likely: sizes[0])
        var read: [Int64] = []
        for size in sizes { read += pages.next(size).map(\.document) }
        while case let page = pages.next(500), !page.isEmpty { read += page.map(\.document) }
        #expect(read == full)
        var nothing = WordTally<Int64>.RankedPages.none
        #expect(nothing.next(10).isEmpty)
    }
}
