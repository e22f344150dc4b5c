import ConformanceKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SomaCore
import SomaBackendHTTP
import SomaQdrant

/// One client for the process's tests (a backend's own is shut down with it by the service).
let qdrantTestHTTP = BackendHTTPClient.make()
import Testing

/// Against the Qdrant test server (Qdrant's own engine behind its REST API; no Qdrant server binary
/// runs here): every request this adapter makes is checked against Qdrant's OpenAPI document there,
/// so each test also expects none was refused.
@Suite(
    "Qdrant adapter against Qdrant's engine behind its OpenAPI-checked REST API",
    .enabled(if: TestServers.qdrantURL != nil, Comment(rawValue: TestServers.qdrantMissing)))
struct QdrantVectorTests {
    static func index(apiKey: String? = TestServers.qdrantAPIKey, collection: String = "test_\(UUID().uuidString.prefix(8).lowercased())")
        -> QdrantVectorIndex
    {
        QdrantVectorIndex(
            endpoint: QdrantEndpoint(baseURL: TestServers.qdrantURL!, apiKey: apiKey, collection: collection, timeout: TestServers.qdrantDeadline),
            http: qdrantTestHTTP)
    }

    /// Requests the stand-in refused for breaking Qdrant's OpenAPI document, since it started.
    static func refusedRequests() async throws -> [String] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: TestServers.qdrantURL! + "/__standin/stats")!)
        let stats = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (stats?["invalid_examples"] as? [String]) ?? ["unreadable stats"]
    }

    /// Its row of the ability matrix: an index in its own server shares no transaction.
    @Test func declaredAbilities() {
        #expect(Abilities.of(Self.index()).isEmpty)
    }

    @Test(arguments: VectorConformance.checks)
    func conformance(_ check: VectorConformance.Check) async throws {
        try await check.run(Self.index())
        #expect(try await Self.refusedRequests().isEmpty, "every request matched Qdrant's OpenAPI document")
    }

    /// The collection as the server reports it (GET /collections/NAME).
    static func collectionInfo(_ name: String) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "\(TestServers.qdrantURL!)/collections/\(name)")!)
        request.setValue(TestServers.qdrantAPIKey, forHTTPHeaderField: "api-key")
        let (data, _) = try await URLSession.shared.data(for: request)
        return ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["result"] as? [String: Any]) ?? [:]
    }

    /// More vectors than the server's indexing threshold (servers.sh: 20 KB, so 1,500 vectors of 16
    /// dimensions): Qdrant's engine builds its HNSW graph, and searches on it find each vector's
    /// nearest, within filters by type and by payload value.
    @Test func searchesRunOnTheEnginesHNSWWithFilters() async throws {
        let collection = "hnsw_\(UUID().uuidString.prefix(8).lowercased())"
        let index = Self.index(collection: collection)
        try await index.ensureCollection(dimension: 16)
        let ns = Fixture.namespace()
        var generator = SystemRandomNumberGenerator()
        let points = (0..<1500).map { number in
            VectorPoint(
                id: UUID(), vector: (0..<16).map { _ in Float.random(in: -1...1, using: &generator) }, namespace: ns,
                type: number % 2 == 0 ? .episodic : .semantic, version: 1, payload: ["bucket": .int(Int64(number % 5))])
        }
        for batch in stride(from: 0, to: points.count, by: 250) { try await index.upsert(Array(points[batch..<min(batch + 250, points.count)])) }
        var indexed = 0
        for _ in 0..<100 where indexed < points.count {
            indexed = try await Self.collectionInfo(collection)["indexed_vectors_count"] as? Int ?? 0
            if indexed < points.count { try await Task.sleep(for: .milliseconds(200)) }
        }
        // A last segment still under the threshold stays plain (searched exactly), as in Qdrant: most
        // vectors, not necessarily all, are in the graph.
        #expect(indexed >= 1000, "the engine indexed the vectors in its HNSW graph: \(indexed) of \(points.count)")
        var found = 0
        for point in points.prefix(50) {
            let plain = try await index.search(VectorQuery(vector: point.vector, namespace: ns, limit: 1))
            let typed = try await index.search(VectorQuery(vector: point.vector, namespace: ns, type: point.type, filters: point.payload, limit: 3))
            if plain.first?.id == point.id && typed.first?.id == point.id { found += 1 }
            let matching = Set(points.filter { $0.type == point.type && $0.payload == point.payload }.map(\.id))
            #expect(typed.allSatisfy { matching.contains($0.id) }, "every hit has the filtered type and payload")
        }
        #expect(found >= 49, "each vector is its own nearest, with and without filters: \(found) of 50")
        #expect(try await index.count(namespace: ns) == points.count)
        #expect(try await Self.refusedRequests().isEmpty, "every request matched Qdrant's OpenAPI document")
    }

    @Test func aWrongAPIKeyIsAClearError() async throws {
        let index = Self.index(apiKey: "wrong")
        await #expect {
            try await index.ensureCollection(dimension: 4)
        } throws: { error in
            "\(error)".contains("401") && "\(error)".contains("API key")
        }
    }

    @Test func filtersOnFractionsAndObjectsAreChecked() async throws {
        let index = Self.index()
        try await index.ensureCollection(dimension: 2)
        let ns = Fixture.namespace()
        let a = VectorPoint(id: UUID(), vector: [1, 0], namespace: ns, type: .episodic, version: 1, payload: ["score": 0.5, "tags": ["x"]])
        let b = VectorPoint(id: UUID(), vector: [0.9, 0.1], namespace: ns, type: .episodic, version: 1, payload: ["score": 0.75, "tags": ["y"]])
        try await index.upsert([a, b])
        let byFraction = try await index.search(VectorQuery(vector: [1, 0], namespace: ns, filters: ["score": 0.75], limit: 5))
        #expect(byFraction.map(\.id) == [b.id])
        let byArray = try await index.search(VectorQuery(vector: [1, 0], namespace: ns, filters: ["tags": ["x"]], limit: 5))
        #expect(byArray.map(\.id) == [a.id])
        #expect(try await Self.refusedRequests().isEmpty)
    }

    @Test func endpointFromHostAndPortAndBadURLs() throws {
        let endpoint = try QdrantEndpoint(BackendConfiguration(["QDRANT_HOST": "qdrant.internal", "QDRANT_PORT": "6334", "QDRANT_API_KEY": "k"]))
        #expect(endpoint.baseURL == "http://qdrant.internal:6334")
        #expect(endpoint.apiKey == "k")
        #expect(try QdrantEndpoint(BackendConfiguration(["QDRANT_URL": "https://q.example.com:6333/"])).baseURL == "https://q.example.com:6333")
        #expect(throws: BackendError.self) { try QdrantEndpoint(BackendConfiguration(["QDRANT_URL": "ftp://q"])) }
        #expect(throws: BackendError.self) { try QdrantEndpoint(BackendConfiguration([:])) }
    }
}

/// No server needed: the adapter against a port nothing listens on.
@Suite struct QdrantRefusedConnectionTests {
    @Test func aRefusedConnectionIsAnOutageAtOnceNotAfterTheTimeout() async throws {
        let index = QdrantVectorIndex(
            endpoint: QdrantEndpoint(
                baseURL: "http://127.0.0.1:\(try Spawn.freePort())", collection: "nobody", timeout: .seconds(90)), http: qdrantTestHTTP)
        let started = ContinuousClock.now
        await #expect {
            _ = try await index.search(VectorQuery(vector: [1, 0, 0, 0], namespace: "ns", limit: 3))
        } throws: { error in
            guard case BackendError.unreachable(let backend, _) = error else { return false }
            return backend == "qdrant"
        }
        let waited = started.duration(to: .now)
        #expect(waited < .seconds(30), "answered after \(waited), not the 90-s timeout")
    }
}
