import ConformanceKit
import Foundation
import SomaCore
import Testing

@testable import SomaMiniLM

/// One embedder for the suite: loading maps and checks 90 MB of weights.
let sharedEmbedder = Result { try MiniLMEmbedder(settingsForTests()) }

func settingsForTests() -> MiniLMEmbedder.Settings {
    var settings = MiniLMEmbedder.Settings()
    settings.directory = Reference.modelDirectory
    return settings
}

@Suite struct EncoderTests {
    @Test(arguments: EmbedderConformance.checks)
    func conformance(_ check: EmbedderConformance.Check) async throws {
        try await check.run(try sharedEmbedder.get())
    }

    /// The similarity matrix the sentence-transformers README publishes for this model.
    @Test func publishedSimilarities() async throws {
        let embedder = try sharedEmbedder.get()
        let vectors = try await embedder.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
        #expect(vectors.allSatisfy { $0.count == 384 })
        #expect(abs(cosine(vectors[0], vectors[1]) - 0.6660) < 0.001)
        #expect(abs(cosine(vectors[0], vectors[2]) - 0.1046) < 0.001)
        #expect(abs(cosine(vectors[1], vectors[2]) - 0.1411) < 0.001)
        #expect(embedder.modelID == "all-MiniLM-L6-v2" && embedder.dimension == 384)
    }

    /// Against the numpy forward pass (padded, masked): empty, unicode-only and truncated texts among them.
    @Test func agreesWithReferenceForwardPass() async throws {
        let embedder = try sharedEmbedder.get()
        var texts = try await Reference.tokenCases(count: 200, seed: 7).map(\.text)
        texts += [
            "", "東京 北京大学 한국어", "😀 👍🏽", String(repeating: "a long memory about rockets and weather ", count: 60),
            "Falcon launch moved to Friday", "when does the rocket go up?",
        ]
        #expect(texts.count >= 200)
        let expected = try await Reference.embeddings(texts)
        let actual = try await embedder.embed(texts)
        #expect(actual.count == texts.count)
        let worst = zip(actual, expected).map { cosine($0, $1) }.enumerated().min { $0.element < $1.element }!
        #expect(worst.element >= 0.9999, "lowest cosine \(worst.element) for \(texts[worst.offset].debugDescription)")
        #expect(actual.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4 })
    }

    /// A text's vector does not depend on the batch it travels in, nor on queries cutting in.
    @Test func batchingDoesNotChangeVectors() async throws {
        let embedder = try sharedEmbedder.get()
        let texts = (0..<40).map { "memory \($0): " + String(repeating: "word\($0) ", count: $0 % 9 + 1) }
        let together = try await embedder.embed(texts)
        let alone = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (index, text) in texts.enumerated() {
                group.addTask { (index, index % 3 == 0 ? try await embedder.embedQuery(text) : try await embedder.embed([text])[0]) }
            }
            var vectors = [[Float]](repeating: [], count: texts.count)
            for try await (index, vector) in group { vectors[index] = vector }
            return vectors
        }
        for (a, b) in zip(together, alone) { #expect(cosine(a, b) > 0.99999) }
    }

    /// Concurrent single-text stores travel together: far fewer passes than texts.
    @Test func concurrentStoresSharePasses() async throws {
        var settings = settingsForTests()
        settings.batchSize = 16
        let embedder = try MiniLMEmbedder(settings)
        let before = embedder.passes
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask { _ = try await embedder.embed(["store number \(index) about the falcon launch"]) }
            }
            try await group.waitForAll()
        }
        let passes = embedder.passes - before
        // The first store goes alone, at once; the rest queue while a pass runs and share the next ones.
        #expect(passes >= 4 && passes <= 32, "64 concurrent stores took \(passes) passes")
    }
}
