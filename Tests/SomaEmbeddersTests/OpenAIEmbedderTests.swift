import ConformanceKit
import Foundation
import SomaCore
import Testing

@testable import SomaEmbedders
import SomaBackendHTTP

/// One client for the process's tests (a backend's own is shut down with it by the service).
let testHTTP = BackendHTTPClient.make()

/// The OpenAI-compatible embedder against the stand-in server (a real HTTP server on loopback that
/// checks each request's shape the way OpenAI documents it; no model server runs here).
/// Serialized: each test starts its own stand-in process, and eleven Python start-ups at once load
/// the 2 cores enough to upset timing in other suites running beside this one.
@Suite(.serialized) struct OpenAIEmbedderTests {
    func embedder(_ server: EmbeddingsStandIn, key: String? = nil, _ adjust: (inout OpenAIEmbedderSettings) -> Void = { _ in }) -> OpenAIEmbedder {
        var settings = OpenAIEmbedderSettings(baseURL: server.baseURL, model: "standin-small", apiKey: key ?? server.apiKey)
        settings.retryBackoff = .milliseconds(10)
        adjust(&settings)
        return OpenAIEmbedder(settings: settings, dimension: server.dimension, http: testHTTP)
    }

    @Test(arguments: EmbedderConformance.checks)
    func conformance(_ check: EmbedderConformance.Check) async throws {
        let server = try await EmbeddingsStandIn()
        try await check.run(embedder(server))
        #expect(try await server.stats().refused.isEmpty, "every request had the shape OpenAI documents")
    }

    @Test func batchesTextsAndSendsWellFormedRequests() async throws {
        let server = try await EmbeddingsStandIn()
        let embedder = embedder(server) {
            $0.batchSize = 8; $0.concurrency = 1
        }
        let texts = (0..<20).map { "memory number \($0)" }
        let vectors = try await embedder.embed(texts)
        #expect(vectors.count == 20)
        #expect(vectors.allSatisfy { $0.count == 384 })
        #expect(try await embedder.embed(["memory number 7"]) == [vectors[7]])
        let stats = try await server.stats()
        #expect(stats.batches == [8, 8, 4, 1])
        #expect(stats.refused.isEmpty)
        #expect(embedder.modelID == "standin-small@384")
    }

    @Test func callsThatWaitForASlotShareOneRequest() async throws {
        let server = try await EmbeddingsStandIn()
        try await server.control(delayMilliseconds: 300)
        let embedder = embedder(server) { $0.concurrency = 1 }
        let vectors = try await withThrowingTaskGroup(of: [[Float]].self) { group in
            for number in 0..<10 { group.addTask { try await embedder.embed(["call \(number)"]) } }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(vectors.count == 10)
        let stats = try await server.stats()
        #expect(stats.texts == 10)
        // The first call goes alone; the others queue while it is in flight and travel together.
        #expect(stats.requests <= 3, "requests: \(stats.batches)")
    }

    @Test func neverHasMoreRequestsInFlightThanTheLimit() async throws {
        let server = try await EmbeddingsStandIn()
        try await server.control(delayMilliseconds: 200)
        let embedder = embedder(server) {
            $0.batchSize = 1; $0.concurrency = 2
        }
        async let first = embedder.embed((0..<5).map { "first \($0)" })
        async let second = embedder.embed((0..<5).map { "second \($0)" })
        let answers = try await [first, second]
        #expect(answers.map(\.count) == [5, 5])
        let stats = try await server.stats()
        #expect(stats.requests == 10)
        #expect(stats.maxInFlight == 2)
    }

    @Test func retriesA429AfterTheServersRetryAfter() async throws {
        let server = try await EmbeddingsStandIn()
        try await server.control(script: [["status": 429, "retry_after": "1"]])
        let started = ContinuousClock.now
        let vectors = try await embedder(server).embed(["rate limited"])
        let waited = ContinuousClock.now - started
        #expect(vectors.count == 1)
        #expect(try await server.stats().requests == 2)
        #expect(waited >= .milliseconds(950), "waited \(waited), not the 1 s Retry-After")
    }

    @Test func retriesServerErrorsAndGivesUpAfterTheLastAttempt() async throws {
        let server = try await EmbeddingsStandIn()
        try await server.control(script: [["status": 500], ["status": 503]])
        #expect(try await embedder(server).embed(["flaky"]).count == 1)
        #expect(try await server.stats().requests == 3)

        try await server.reset()
        try await server.control(script: Array(repeating: ["status": 502], count: 3))
        let error = await #expect(throws: BackendError.self) { try await embedder(server) { $0.maxAttempts = 3 }.embed(["down"]) }
        #expect(String(describing: error).contains("502"))
        #expect(String(describing: error).contains("after 3 attempts"))
        #expect(try await server.stats().requests == 3)
    }

    @Test func timesOutASlowRequest() async throws {
        let server = try await EmbeddingsStandIn()
        try await server.control(script: [["delay_ms": 30_000]])
        let started = ContinuousClock.now
        let error = await #expect(throws: BackendError.self) {
            try await embedder(server) {
                $0.timeout = .milliseconds(300); $0.maxAttempts = 1
            }.embed(["slow"])
        }
        #expect(String(describing: error).contains("timed out"))
        // Far from both figures, so a loaded machine cannot blur them: 300 ms allowed, 30 s answer.
        #expect(ContinuousClock.now - started < .seconds(15))
        // With a second attempt, the next (fast) answer is used.
        try await server.control(script: [["delay_ms": 3000]])
        #expect(
            try await embedder(server) {
                $0.timeout = .milliseconds(300); $0.maxAttempts = 2
            }.embed(["slow"]).count == 1)
    }

    @Test func refusesVectorsOfTheWrongDimensionWithoutRetrying() async throws {
        let server = try await EmbeddingsStandIn()
        try await server.control(script: [["dimension": 12]])
        let error = await #expect(throws: BackendError.self) { try await embedder(server).embed(["short vector"]) }
        #expect(String(describing: error).contains("12-dimensional"))
        #expect(String(describing: error).contains("expects 384"))
        #expect(try await server.stats().requests == 1)
    }

    @Test func sendsTheKeyAsABearerTokenAndNeverRepeatsIt() async throws {
        let server = try await EmbeddingsStandIn()
        _ = try await embedder(server).embed(["with a key"])
        #expect(try await server.stats().tokens == ["Bearer \(server.apiKey)"])

        let wrong = "wrong-key-\(UUID().uuidString)"
        let error = await #expect(throws: BackendError.self) { try await embedder(server, key: wrong).embed(["bad key"]) }
        #expect(String(describing: error).contains("401"))
        #expect(!String(describing: error).contains(wrong))
        #expect(try await server.stats().requests == 2, "a refused key is not retried")
    }

    @Test func cutsLongTextsAndAnswersBlankOnesWithoutARequest() async throws {
        let server = try await EmbeddingsStandIn()
        let embedder = embedder(server) { $0.maxCharacters = 11 }
        let vectors = try await embedder.embed(["alpha bravo charlie delta echo", "alpha bravo", "  \n", ""])
        #expect(vectors[0] == vectors[1], "the long text was not cut to 11 characters")
        #expect(vectors[2] == Array(repeating: 0, count: 384))
        #expect(vectors[3] == Array(repeating: 0, count: 384))
        #expect(try await server.stats().texts == 2)
        #expect(try await embedder.embed(["", " "]).count == 2)
        #expect(try await server.stats().requests == 1)
    }

    @Test func learnsTheDimensionFromTheServerWhenNotConfigured() async throws {
        let server = try await EmbeddingsStandIn(dimension: 48)
        let settings = OpenAIEmbedderSettings(baseURL: server.baseURL, model: "m", apiKey: server.apiKey)
        #expect(try await OpenAIEmbedder.make(settings, configuredDimension: nil, http: testHTTP).dimension == 48)
        #expect(try await OpenAIEmbedder.make(settings, configuredDimension: 64, http: testHTTP).dimension == 64)
        server.stop()
        let error = await #expect(throws: BackendError.self) { try await OpenAIEmbedder.make(settings, configuredDimension: nil, http: testHTTP) }
        #expect(String(describing: error).contains("set SOMA_VECTOR_DIM"))
    }

    @Test func readsItsSettingsAndRefusesBadOnes() throws {
        let settings = try OpenAIEmbedderSettings(
            BackendConfiguration([
                "SOMA_EMBEDDINGS_URL": "http://localhost:11434/v1/", "SOMA_EMBEDDINGS_MODEL": "nomic-embed-text",
                "SOMA_EMBEDDINGS_BATCH_SIZE": "16", "SOMA_EMBEDDINGS_CONCURRENCY": "3", "SOMA_EMBEDDINGS_DIMENSIONS": "256",
            ]))
        #expect(settings.endpoint == "http://localhost:11434/v1/embeddings")
        #expect(settings.batchSize == 16 && settings.concurrency == 3 && settings.requestedDimensions == 256)
        let refused: [[String: String]] = [
            ["SOMA_EMBEDDINGS_MODEL": "m"],
            ["SOMA_EMBEDDINGS_URL": "http://localhost/v1"],
            ["SOMA_EMBEDDINGS_URL": "ftp://localhost/v1", "SOMA_EMBEDDINGS_MODEL": "m"],
            ["SOMA_EMBEDDINGS_URL": "http://user:secret@localhost/v1", "SOMA_EMBEDDINGS_MODEL": "m"],
            ["SOMA_EMBEDDINGS_URL": "http://localhost/v1", "SOMA_EMBEDDINGS_MODEL": "m", "SOMA_EMBEDDINGS_BATCH_SIZE": "0"],
        ]
        for values in refused {
            #expect(throws: BackendError.self) { try OpenAIEmbedderSettings(BackendConfiguration(values)) }
        }
    }
}
