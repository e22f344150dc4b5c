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
        let texts = try await referenceTexts()
        let expected = try await Reference.embeddings(texts)
        let actual = try await embedder.embed(texts)
        #expect(actual.count == texts.count)
        let worst = zip(actual, expected).map { cosine($0, $1) }.enumerated().min { $0.element < $1.element }!
        #expect(worst.element >= 0.9999, "lowest cosine \(worst.element) for \(texts[worst.offset].debugDescription)")
        #expect(actual.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4 })
        // The path a CPU without AVX-512 runs (OpenBLAS and the Swift loops) against the same reference.
        var settings = settingsForTests()
        settings.portableKernels = true
        let portable = try MiniLMEmbedder(settings)
        let viaOpenBLAS = try await portable.embed(texts)
        let portableWorst = zip(viaOpenBLAS, expected).map { cosine($0, $1) }.min() ?? 0
        #expect(portableWorst >= 0.9999, "portable kernels: lowest cosine \(portableWorst)")
        await portable.stop()
    }

    /// The int8 path against fp32 on the reference test's texts, the published figures and the
    /// fp32 path's own ordering of them; each call alone (a query's narrow path) and batched.
    @Test(.enabled(if: EncoderPrecision.int8Supported, "int8 needs AVX-512 VNNI; the fallback test covers a CPU without it"))
    func int8StaysCloseToFP32() async throws {
        var settings = settingsForTests()
        settings.precision = .int8
        let int8 = try MiniLMEmbedder(settings)
        #expect(int8.precision == .int8 && int8.precisionFallback == nil)
        let fp32 = try sharedEmbedder.get()
        let texts = try await referenceTexts()
        let (exact, quantised) = (try await fp32.embed(texts), try await int8.embed(texts))
        let agreement = zip(exact, quantised).map { cosine($0, $1) }
        let mean = agreement.reduce(0, +) / Float(agreement.count)
        let worst = agreement.enumerated().min { $0.element < $1.element }!
        print("int8 against fp32 on \(texts.count) texts: mean cosine \(mean), lowest \(worst.element)")
        #expect(mean >= 0.99, "mean cosine to fp32 \(mean)")
        #expect(worst.element >= 0.97, "lowest cosine \(worst.element) for \(texts[worst.offset].debugDescription)")
        #expect(quantised.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4 })
        // A query runs the narrow path (products split by columns): the same vector as in a batch.
        for text in texts.suffix(6) {
            #expect(cosine(try await int8.embedQuery(text), quantised[texts.firstIndex(of: text)!]) > 0.9999)
        }
        let published = try await int8.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
        print(
            "int8 published figures: \(cosine(published[0], published[1])) \(cosine(published[0], published[2])) \(cosine(published[1], published[2]))"
        )
        #expect(abs(cosine(published[0], published[1]) - 0.6660) < 0.01)
        #expect(abs(cosine(published[0], published[2]) - 0.1046) < 0.01)
        #expect(abs(cosine(published[1], published[2]) - 0.1411) < 0.01)
        await int8.stop()
    }

    /// Asked for int8 without the AVX-512 kernels (turned off here, as on a CPU without them), the
    /// embedder says so and runs fp32 on OpenBLAS.
    @Test func int8FallsBackToFP32WithoutTheInstructions() async throws {
        var settings = settingsForTests()
        settings.precision = .int8
        settings.portableKernels = true
        let embedder = try MiniLMEmbedder(settings)
        #expect(embedder.precision == .fp32)
        #expect(embedder.precisionFallback?.contains("AVX-512 VNNI") == true, "\(embedder.precisionFallback ?? "no reason given")")
        let texts = ["Falcon launch moved to Friday", "when does the rocket go up?"]
        let (fallback, exact) = (try await embedder.embed(texts), try await sharedEmbedder.get().embed(texts))
        for (a, b) in zip(fallback, exact) { #expect(cosine(a, b) > 0.99999) }
        await embedder.stop()
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

/// The reference forward pass's texts: 200 generated (unicode, blanks, over-long) and six written.
func referenceTexts() async throws -> [String] {
    var texts = try await Reference.tokenCases(count: 200, seed: 7).map(\.text)
    texts += [
        "", "東京 北京大学 한국어", "😀 👍🏽", String(repeating: "a long memory about rockets and weather ", count: 60),
        "Falcon launch moved to Friday", "when does the rocket go up?",
    ]
    return texts
}
