import Testing
@testable import SomaCore

@Suite struct HashEmbedderTests {
    let embedder = HashEmbedder(dimension: 384)

    @Test func deterministicNormalisedVectors() async throws {
        let vectors = try await embedder.embed(["The cat sat on the mat", "The cat sat on the mat"])
        #expect(vectors[0] == vectors[1])
        #expect(vectors[0].count == 384)
        let norm = vectors[0].reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-5)
        #expect(embedder.modelID == "hash-v1-384")
    }

    @Test func sharedWordsAreCloserThanUnrelatedText() {
        let query = embedder.vector(for: "cats on mats")
        let related = embedder.vector(for: "a cat sat on the mat")
        let unrelated = embedder.vector(for: "quarterly revenue report")
        #expect(VectorMath.cosine(query, related) > VectorMath.cosine(query, unrelated) + 0.2)
    }

    @Test func emptyTextIsTheZeroVector() {
        #expect(embedder.vector(for: "  ,. ").allSatisfy { $0 == 0 })
    }

    @Test func fnvMatchesTheReferenceValue() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c in the reference implementation.
        #expect(HashEmbedder.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
    }
}

@Suite struct EmbeddingTextTests {
    @Test func stringValuesInStableOrder() {
        let payload: JSONObject = ["b": "second", "a": "first", "n": 3, "list": ["x", ["y": "z"]]]
        #expect(EmbeddingText.of(payload) == "first second x z")
        #expect(EmbeddingText.of(payload, fields: ["b", "missing", "a"]) == "second first")
    }
}
