import ConformanceKit
import Foundation
import SomaCore
import SomaInProcess
import Testing

/// Keyword search as people use it: words, not whole-query substrings.
@Suite struct WordSearchTests {
    let memories: [(String, String)] = [
        ("1", "Priya brought coffee to the standup"),
        ("2", "Coffee machine on floor 3 is broken"),
        ("3", "Priya is on holiday until 2024-05-03"),
        ("4", "Sarah from finance approves all expenses"),
        ("5", "The café downstairs serves naïve latte art"),
        ("6", "東京の会議は金曜日です"),
        ("7", "Lunch with the team at the usual place"),
        ("8", "Team lunch moved to Friday"),
        ("9", "The team reviewed the team budget with the team lead"),
    ]

    func engine() async throws -> MemoryEngine {
        let engine = try await makeEngine()
        _ = try await engine.store(memories.map { draft("ns", $0.0, ["text": .string($0.1)]) })
        return engine
    }

    func search(_ engine: MemoryEngine, _ query: String, topK: Int = 10, minScore: Double? = nil) async throws -> [String] {
        try await engine.keywordSearch(RecallRequest(namespace: "ns", query: query, topK: topK, minScore: minScore)).map(
            \.memory.coordinate.canonical)
    }

    /// A storage that declares no word search gets keyword and hybrid recall through the engine's
    /// declared fallback: the same hits with the same scores as a storage with its own index.
    @Test func aStorageWithoutWordSearchGetsTheSameAnswersThroughTheFallback() async throws {
        let wordless = StorageWithoutWordSearch(InProcessStorage())
        #expect(wordless.wordSearching == nil && InProcessStorage().wordSearching != nil)
        let fallback = try await makeEngine(storage: wordless)
        _ = try await fallback.store(memories.map { draft("ns", $0.0, ["text": .string($0.1)]) })
        let indexed = try await engine()
        for query in ["priya coffee", "team lunch friday", "2024-05-03", "naive cafe"] {
            let request = RecallRequest(namespace: "ns", query: query, topK: 5)
            for (mode, recall) in [("keyword", MemoryEngine.keywordSearch), ("hybrid", MemoryEngine.hybridRecall)] {
                let expected = try await recall(indexed)(request).map { "\($0.memory.coordinate.canonical) \($0.score)" }
                let found = try await recall(fallback)(request).map { "\($0.memory.coordinate.canonical) \($0.score)" }
                #expect(!expected.isEmpty && found == expected, "\(mode) \(query)")
            }
        }
    }

    @Test func anyWordMatchesAndMoreWordsRankFirst() async throws {
        let engine = try await engine()
        let found = try await search(engine, "Priya coffee")
        #expect(Set(found) == ["1", "2", "3"])
        #expect(found.first == "1", "the memory holding both words ranks first: \(found)")
        #expect(try await search(engine, "who approves spending?") == ["4"])
    }

    @Test func rarerWordsWeighMore() async throws {
        let engine = try await engine()
        // "team" is in three memories, "friday" in one: the Friday lunch outranks the team ones.
        let found = try await search(engine, "team friday")
        #expect(found.first == "8", "\(found)")
        #expect(Set(found) == ["7", "8", "9"])
    }

    @Test func stopWordsAloneMatchNothingAndUnknownWordsFindNothing() async throws {
        let engine = try await engine()
        #expect(try await search(engine, "the is on to with").isEmpty)
        #expect(try await search(engine, "zebra quantum").isEmpty)
        #expect(try await search(engine, "\"the of\" coffee").isEmpty, "a phrase of stop words alone matches nothing")
    }

    @Test func quotedPhrasesMustAppearAsWritten() async throws {
        let engine = try await engine()
        #expect(try await search(engine, "\"team lunch\"") == ["8"])
        #expect(try await search(engine, "\"lunch team\"").isEmpty)
        #expect(try await search(engine, "\"lunch with the team\" friday") == ["7"], "stop words count inside a phrase")
    }

    @Test func accentsCaseWidthAndScriptsFold() async throws {
        let engine = try await engine()
        #expect(try await search(engine, "CAFE naive") == ["5"])
        #expect(try await search(engine, "ＣＯＦＦＥＥ").count == 2, "full-width letters fold")
        #expect(try await search(engine, "会議") == ["6"])
        #expect(try await search(engine, "2024-05-03") == ["3"])
        #expect(try await search(engine, "2024") == ["3"])
    }

    @Test func scoresAreInZeroToOneAndMinScoreFilters() async throws {
        let engine = try await engine()
        let hits = try await engine.keywordSearch(RecallRequest(namespace: "ns", query: "Priya coffee", topK: 10))
        #expect(hits.allSatisfy { $0.score > 0 && $0.score <= 1 })
        #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
        let strong = try await search(engine, "Priya coffee", minScore: hits[0].score - 1e-9)
        #expect(strong == ["1"])
    }

    @Test func theOriginalsValueMatchingStaysAvailable() async throws {
        let engine = try await engine()
        let exact = try await engine.valueSearch(RecallRequest(namespace: "ns", query: "team lunch moved to friday", topK: 5, exact: true))
        #expect(exact.map(\.memory.coordinate.canonical) == ["8"])
        let substring = try await engine.valueSearch(RecallRequest(namespace: "ns", query: "offee mach", topK: 5))
        #expect(substring.map(\.memory.coordinate.canonical) == ["2"])
    }
}

@Suite struct TokenizerTests {
    @Test func wordsAreFoldedAndSplit() {
        #expect(WordTokenizer.words("Crème Brûlée, ＡＢＣ ﬁne İstanbul") == ["creme", "brulee", "abc", "fine", "istanbul"])
        #expect(WordTokenizer.words("東京タワーで") == ["東", "京", "タ", "ワ", "ー", "で"], "Han and kana are a word each")
        #expect(WordTokenizer.terms("The cat's on the mat") == ["cat", "mat"])
        #expect(WordTokenizer.words("FL-7 v2.1") == ["fl", "7", "v2", "1"])
    }

    @Test func queriesSplitPhrasesFromWords() {
        let query = WordQuery(parsing: #"budget "team lunch" Friday budget"#)
        #expect(query.terms == ["budget", "team", "lunch", "friday"])
        #expect(query.phrases == [["team", "lunch"]])
        #expect(query.requiredTerms == ["team", "lunch"])
        #expect(query.phrasesMatch("the team lunch was fun") && !query.phrasesMatch("lunch for the team"))
        #expect(WordQuery(parsing: "the of").matchesNothing)
    }
}
