import ConformanceKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `soma` with the OpenAI-compatible embedder against the stand-in server, as processes: stores
/// while the embedder is down, and `soma reindex` from the default in-process model to the HTTP one.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct EmbeddingsStackTests {
    func embedderSettings(_ server: EmbeddingsStandIn, dataDirectory: String) -> [String: String] {
        [
            "SOMA_DATA_DIR": dataDirectory, "SOMA_EMBEDDER": "openai", "SOMA_EMBEDDINGS_URL": server.baseURL,
            "SOMA_EMBEDDINGS_MODEL": "standin", "SOMA_EMBEDDINGS_API_KEY": server.apiKey,
            "SOMA_EMBEDDINGS_MAX_ATTEMPTS": "2", "SOMA_EMBEDDINGS_RETRY_BACKOFF_MS": "50", "SOMA_INDEX_REPAIR_INTERVAL_MS": "300",
        ]
    }

    func temporaryDirectory() throws -> String {
        try Scratch.directory("soma-embeddings")
    }

    /// The coordinates `query` recalls, best first.
    func recall(_ server: SomaServer, _ query: String, top: Int = 5) async throws -> (status: Int, coordinates: [String], text: String) {
        let reply = try await server.call("POST", "/v1/memories/search", #"{"query":"\#(query)","top_k":\#(top)}"#)
        let hits = (reply["results"] as? [[String: Any]]) ?? []
        return (reply.status, hits.compactMap { ($0["memory"] as? [String: Any])?["coord"] as? String }, reply.text)
    }

    @Test func aStoreWhileTheEmbedderIsDownIsFoundOnceItIsBack() async throws {
        let embeddings = try await EmbeddingsStandIn(dimension: 256)
        let server = try SomaServer(environment: embedderSettings(embeddings, dataDirectory: try temporaryDirectory()))
        defer { #expect(server.stop()) }
        try await server.ready()
        #expect(try await server.call("POST", "/v1/memories", #"{"coord":"1,0","payload":{"text":"heron nests by the river"}}"#).status < 300)
        #expect(try await recall(server, "heron").coordinates.first == "1,0")

        embeddings.stop()
        let stored = try await server.call("POST", "/v1/memories", #"{"coord":"2,0","payload":{"text":"kingfisher dives at dawn"}}"#)
        #expect(stored.status == 201 || stored.status == 200, "a store must succeed while the embedder is down: \(stored.text)")
        #expect(try await server.call("GET", "/v1/memories/2,0").status == 200)
        let down = try await recall(server, "kingfisher")
        #expect(down.status == 503, "recall must say the embedder is down, not answer nothing: \(down.text)")
        #expect(down.text.contains("embed"), "\(down.text)")

        try await embeddings.start()
        var found: [String] = []
        for _ in 0..<50 where found.first != "2,0" {
            try await Task.sleep(for: .milliseconds(200))
            found = try await recall(server, "kingfisher").coordinates
        }
        #expect(found.first == "2,0", "the memory stored while the embedder was down was never indexed")
        #expect(try await embeddings.stats().refused.isEmpty)
        #expect(!server.logText.contains(embeddings.apiKey), "the API key appeared in the log")
    }

    @Test func reindexMovesEveryMemoryToTheNewModelAndResumesAfterAKill() async throws {
        let data = try temporaryDirectory()
        let count = 60
        let old = try SomaServer(environment: ["SOMA_DATA_DIR": data])
        try await old.ready()
        for number in 0..<count {
            let reply = try await old.call("POST", "/v1/memories", #"{"coord":"\#(number),0","payload":{"text":"topic\#(number) notes"}}"#)
            try #require(reply.status < 300, "\(reply.text)")
        }
        #expect(old.stop())

        let embeddings = try await EmbeddingsStandIn(dimension: 1024)
        try await embeddings.control(delayMilliseconds: 150)
        var environment = old.environment.merging(embedderSettings(embeddings, dataDirectory: data)) { _, new in new }
        environment["SOMA_REINDEX_BATCH_SIZE"] = "5"
        environment["SOMA_PORT"] = nil

        // Interrupted: killed after its first batches (its progress line shows the first, at once).
        let output = Scratch.path("soma-reindex", suffix: ".txt").path
        let reindex = try Spawn.launch([SomaServer.binary.path, "reindex"], environment: environment, output: output)
        for _ in 0..<200 where !((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("embedded: 5") {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(400))  // a few more batches of 5 at 150 ms each
        kill(reindex, SIGKILL)
        Spawn.wait(reindex)
        let first = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(first.contains("embedded: 5") && !first.contains("switched"), "\(first)")

        // Until the reindex completes, the index is the old model's: the new configuration is refused.
        let refused = try await Self.exitOutput(environment: environment)
        #expect(refused.contains("soma reindex") && refused.contains("'all-MiniLM-L6-v2'"), "\(refused)")

        let second = try SomaServer.run(["reindex"], environment: environment)
        #expect(second.contains("resuming the reindex"), "\(second)")
        #expect(second.contains("switched"), "\(second)")
        let redone = second.firstMatch(of: /embedded (\d+) memories in/).flatMap { Int($0.1) }
        #expect(redone.map { $0 < count && $0 > 0 } == true, "the resumed run re-embedded \(redone ?? -1) of \(count): \(second)")

        try await embeddings.control(delayMilliseconds: 0)
        let server = try SomaServer(environment: environment)
        var serving = true
        defer { if serving { #expect(server.stop()) } }
        try await server.ready()
        for number in 0..<count {
            let hits = try await recall(server, "topic\(number)")
            #expect(hits.coordinates.contains("\(number),0"), "topic\(number): \(hits.text)")
        }
        let listed = try await server.call("GET", "/v1/memories?limit=1000")
        let models = ((listed["items"] as? [[String: Any]]) ?? []).map { $0["embedding_model"] as? String }
        #expect(models.count == count)
        #expect(models.allSatisfy { $0 == "standin@1024" }, "memories still on the old model: \(models)")
        #expect(try await embeddings.stats().refused.isEmpty)

        // And the old configuration is now the one refused (once the server lets the data directory go).
        #expect(server.stop())
        serving = false
        var oldConfiguration = environment
        for name in environment.keys where name.hasPrefix("SOMA_EMBEDD") { oldConfiguration[name] = nil }
        let oldRefused = try await Self.exitOutput(environment: oldConfiguration)
        #expect(oldRefused.contains("'standin@1024'"), "\(oldRefused)")
    }

    /// Starts `soma serve`, which must exit by itself; returns what it printed.
    static func exitOutput(environment: [String: String]) async throws -> String {
        var environment = environment
        environment["SOMA_PORT"] = String(try Spawn.freePort())
        let output = Scratch.path("soma-refused", suffix: ".txt").path
        let pid = try Spawn.launch([SomaServer.binary.path, "serve"], environment: environment, output: output)
        for _ in 0..<300 where Spawn.isRunning(pid) {
            try await Task.sleep(for: .milliseconds(100))
        }
        if Spawn.isRunning(pid) { kill(pid, SIGKILL) }
        Spawn.wait(pid)
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }
}
