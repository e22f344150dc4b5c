import AsyncHTTPClient
import ConformanceKit
import Foundation
import NIOCore
import SomaCore
import SomaBackendHTTP
import SomaQdrant

private let qdrantTestHTTP = BackendHTTPClient.make()
import Testing

/// The evented pipeline as separate processes: `soma serve` (PostgreSQL records, VECTOR_INDEX_ASYNC)
/// writes events to Kafka (librdkafka's mock cluster); `soma consume` indexes them into Qdrant (the
/// OpenAPI-checked stand-in); recall through the API reads Qdrant.
enum Pipeline {
    static var available: Bool {
        TestServers.postgresPipelineURL != nil && TestServers.kafkaBootstrap != nil && TestServers.qdrantURL != nil && kcat != nil
    }
    static let missing = "needs PostgreSQL, the Kafka mock, the Qdrant stand-in (scripts/servers.sh start) and kcat"
    static var kcat: String? {
        ["/usr/bin/kcat", "/usr/local/bin/kcat"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// One test's own topic, collection and namespace, shared by its API and consumer processes.
    struct Setup {
        let topic = "e2e.\(UUID().uuidString.prefix(8).lowercased())"
        let collection = "e2e_\(UUID().uuidString.prefix(8).lowercased())"
        let namespace = "e2e-\(UUID().uuidString.prefix(8).lowercased())"

        var environment: [String: String] {
            [
                "POSTGRES_URL": TestServers.postgresPipelineURL!,
                "POSTGRES_TIMEOUT_MS": "5000",
                "SOMA_VECTOR": "qdrant",
                "QDRANT_URL": TestServers.qdrantURL!,
                "QDRANT_API_KEY": TestServers.qdrantAPIKey ?? "",
                "QDRANT_COLLECTION": collection,
                "KAFKA_BOOTSTRAP_SERVERS": TestServers.kafkaBootstrap!,
                "KAFKA_MEMORY_EVENTS_TOPIC": topic,
                "KAFKA_CONSUMER_GROUP": "indexer-\(topic)",
                // Quick group rejoins after the consumer is killed (the mock honours it).
                "KAFKA_SESSION_TIMEOUT_MS": "6000",
                "SOMA_MEMORY_NAMESPACE": namespace,
                "SOMA_RATE_LIMIT_MAX": "0",
                "VECTOR_INDEX_ASYNC": "true",
                "CONSUMER_MAX_ATTEMPTS": "3",
                "CONSUMER_RETRY_BACKOFF_MS": "50",
            ]
        }

        func api() async throws -> SomaServer {
            let server = try SomaServer(environment: environment)
            try await server.ready()
            return server
        }

        func consumer() async throws -> SomaServer {
            let consumer = try SomaServer(environment: environment, command: "consume")
            try await consumer.ready()
            return consumer
        }

        /// The API and a consumer, both ready.
        func both() async throws -> (api: SomaServer, consumer: SomaServer) {
            let api = try await api()
            do {
                return (api, try await consumer())
            } catch {
                api.stop()
                throw error
            }
        }

        /// Points in this test's namespace, as Qdrant holds them.
        func indexed() async throws -> Int {
            let index = QdrantVectorIndex(
                endpoint: QdrantEndpoint(
                    baseURL: TestServers.qdrantURL!, apiKey: TestServers.qdrantAPIKey, collection: collection,
                    timeout: TestServers.qdrantDeadline), http: qdrantTestHTTP)
            return try await index.count(namespace: namespace)
        }

        /// Every point in this test's namespace, as Qdrant's scroll API returns them: (id, version, text).
        func points() async throws -> [(id: String, version: Int, text: String)] {
            var request = HTTPClientRequest(url: "\(TestServers.qdrantURL!)/collections/\(collection)/points/scroll")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "api-key", value: TestServers.qdrantAPIKey ?? "")
            let filter = #"{"filter":{"must":[{"key":"namespace","match":{"value":"\#(namespace)"}}]},"limit":10000,"with_payload":true}"#
            request.body = .bytes(ByteBuffer(string: filter))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 64 << 20)
            let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
            let found = ((json?["result"] as? [String: Any])?["points"] as? [[String: Any]]) ?? []
            return found.map { point in
                let payload = point["payload"] as? [String: Any] ?? [:]
                let id = (point["id"] as? String) ?? "\(point["id"] ?? "")"
                return (id, payload["version"] as? Int ?? -1, ((payload["payload"] as? [String: Any])?["text"] as? String) ?? "")
            }
        }

        /// The consumer group's committed offset and the end of each partition of this test's topic,
        /// read through the broker (scripts/kafka_offsets.py).
        func offsets() throws -> [[String: Int]] {
            let file = Scratch.root.appendingPathComponent("offsets-\(topic).json").path
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/kafka_offsets.py").path
            guard try Spawn.run(["python3", script, TestServers.kafkaBootstrap!, topic, "indexer-\(topic)"], output: file) == 0 else { return [] }
            // Standard error shares the file (librdkafka's log lines): the answer is the last line.
            let line = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").last { $0.hasPrefix("[") } ?? "[]"
            return (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Int]]) ?? []
        }

        /// Waits until `count` points are indexed; returns how long that took, or nil.
        func waitForIndexed(_ count: Int, within seconds: Double) async throws -> Double? {
            let started = Date()
            while Date().timeIntervalSince(started) < seconds {
                if (try? await indexed()) == count { return Date().timeIntervalSince(started) }
                try await Task.sleep(for: .milliseconds(200))
            }
            return nil
        }
    }

    static func store(_ server: SomaServer, _ index: Int) async throws -> Int {
        try await server.call("POST", "/v1/memories", #"{"coord":"\#(index),1","payload":{"text":"pipeline event \#(index) heron"}}"#).status
    }

    static func metric(_ name: String, of consumer: SomaServer) async throws -> Double {
        let text = try await consumer.call("GET", "/metrics").text
        return text.split(separator: "\n").filter { $0.hasPrefix(name) }.compactMap { line in
            line.split(separator: " ").last.flatMap { Double($0) }
        }.reduce(0, +)
    }
}

@Suite(
    "Pipeline: serve + Kafka + consume + Qdrant as processes", .serialized, .timeLimit(.minutes(3)),
    .enabled(if: Pipeline.available, Comment(rawValue: Pipeline.missing)))
struct PipelineTests {
    @Test func aStoredMemoryIsFoundByRecallOnceTheConsumerIndexedIt() async throws {
        let setup = Pipeline.Setup()
        let (api, consumer) = try await setup.both()
        defer { consumer.stop(); api.stop() }

        #expect(try await Pipeline.store(api, 1) == 201)
        var found = false
        let started = Date()
        while !found, Date().timeIntervalSince(started) < 10 {
            let recall = try await api.call("POST", "/v1/memories/search", #"{"query":"heron","top_k":3}"#)
            found = recall.text.contains("pipeline event 1")
            if !found { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(found, "recall finds the memory within seconds, through Kafka, the consumer and Qdrant")
        #expect(try await setup.indexed() == 1)
        #expect(try await Pipeline.metric("soma_consumer_events_processed_total", of: consumer) >= 1)
    }

    /// 500 stores, 100 updates and 60 deletes, the consumer SIGKILLed mid-stream and started again
    /// later: every live memory ends with exactly one point at its newest version, every deleted one
    /// with none, and the group's committed offsets (read through the broker) at each partition's end.
    @Test func aConsumerKilledMidStreamLosesNothingAndIndexesEachMemoryOnce() async throws {
        let setup = Pipeline.Setup()
        let api = try await setup.api()
        defer { api.stop() }
        var consumer = try await setup.consumer()
        let total = 500
        let updated = 1...100
        let deleted = 441...500
        for index in 1...total {
            #expect(try await Pipeline.store(api, index) == 201)
            if index == 200 { consumer.crash() }  // SIGKILL: nothing committed for what it was doing
            if index == 350 { consumer = try await setup.consumer() }
        }
        // Updates and deletes too: the index must end at the newest state, whatever order replays come in.
        for index in updated {
            let reply = try await api.call(
                "POST", "/v1/memories", #"{"coord":"\#(index),1","payload":{"text":"pipeline event \#(index) updated egret"}}"#)
            #expect(reply.status < 300)
        }
        for index in deleted { #expect(try await api.call("DELETE", "/v1/memories/\(index),1").status < 300) }
        let live = total - deleted.count
        var points: [(id: String, version: Int, text: String)] = []
        let started = Date()
        while Date().timeIntervalSince(started) < 90 {
            points = (try? await setup.points()) ?? []
            if points.count == live, points.filter({ $0.text.hasSuffix("updated egret") }).count == updated.count { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        let recall = try await api.call("POST", "/v1/memories/search", #"{"query":"egret updated","top_k":10}"#)
        #expect(recall.text.contains("updated egret"), "updates reached the index: \(recall.text.prefix(300))")
        // Per memory: exactly one point, with the stored memory's id, newest version and text; none once deleted.
        let byID = Dictionary(grouping: points, by: { $0.id.lowercased() })
        var mismatches: [String] = []
        for index in 1...total where !deleted.contains(index) {
            let memory = try await api.call("GET", "/v1/memories/\(index),1")
            guard let id = (memory["id"] as? String)?.lowercased(), let version = memory["version"] as? Int,
                let text = (memory["payload"] as? [String: Any])?["text"] as? String
            else {
                mismatches.append("\(index),1: not readable (\(memory.status))")
                continue
            }
            let held = byID[id] ?? []
            if held.count != 1 || held[0].version != version || held[0].text != text {
                mismatches.append("\(index),1 (version \(version), \(text)): \(held.map { "v\($0.version) \($0.text)" })")
            }
            #expect(version == (updated.contains(index) ? 2 : 1), "\(index),1 is at version \(version)")
        }
        let deletedIDs = Set(
            deleted.map { MemoryID.make(namespace: setup.namespace, coordinate: try! Coordinate([Double($0), 1])).uuidString.lowercased() })
        let lingering = points.filter { deletedIDs.contains($0.id.lowercased()) }
        print("PipelineTests: \(points.count) points checked one by one against \(live) live memories, \(mismatches.count) mismatches")
        #expect(points.count == live, "\(points.count) points for \(live) live memories")
        #expect(mismatches.isEmpty, "\(mismatches.count) memories without exactly one point at their newest version: \(mismatches.prefix(5))")
        #expect(lingering.isEmpty, "\(lingering.count) deleted memories still have a point")
        // The consumer finished: its group's committed offsets are the partitions' ends, as the broker says.
        var offsets: [[String: Int]] = []
        for _ in 0..<60 {
            offsets = try setup.offsets()
            if !offsets.isEmpty, offsets.allSatisfy({ $0["committed"] == $0["end"] }) { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(
            !offsets.isEmpty && offsets.allSatisfy { $0["committed"] == $0["end"] } && offsets.reduce(0) { $0 + ($1["end"] ?? 0) } >= total,
            "committed offsets at each partition's end: \(offsets)")
        consumer.stop()
    }

    @Test func aPoisonEventGoesToTheDeadLetterTopicWhileTheRestFlow() async throws {
        let setup = Pipeline.Setup()
        let (api, consumer) = try await setup.both()
        defer { consumer.stop(); api.stop() }
        #expect(try await Pipeline.store(api, 1) == 201)
        // A record no writer of this service produced: not an event at all.
        let produced = try Spawn.run(
            ["/bin/sh", "-c", "printf 'not an event' | \(Pipeline.kcat!) -P -b \(TestServers.kafkaBootstrap!) -t \(setup.topic) -k poison"])
        #expect(produced == 0)
        #expect(try await Pipeline.store(api, 2) == 201)
        #expect(try await setup.waitForIndexed(2, within: 20) != nil, "the events around the poison one are indexed")

        let deadLetters = Scratch.root.appendingPathComponent("dlq-\(setup.topic).txt").path
        var parked = ""
        for _ in 0..<50 where !parked.contains("not an event") {
            _ = try Spawn.run(
                [
                    Pipeline.kcat!, "-C", "-b", TestServers.kafkaBootstrap!, "-t", setup.topic + ".dlq", "-o", "beginning", "-e", "-q", "-f",
                    "%s|%h\n",
                ],
                output: deadLetters)
            parked = (try? String(contentsOfFile: deadLetters, encoding: .utf8)) ?? ""
            if !parked.contains("not an event") { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(
            parked.contains("not an event") && parked.contains("error=undecodable event"),
            "the poison record is in \(setup.topic).dlq with its error: \(parked)")
        #expect(try await Pipeline.metric("soma_consumer_events_dead_lettered_total", of: consumer) == 1)
    }

    /// The original's producer, still running during a migration: events of its
    /// `schemas/memory.event.json` (no coordinate or version of their own; the memory, its
    /// coordinate and type inside `payload`) beside this build's. All are stored and indexed, none
    /// dead-lettered, and a replayed one changes nothing.
    @Test func eventsOfTheOriginalsProducerAreStoredAndIndexed() async throws {
        let setup = Pipeline.Setup()
        let (api, consumer) = try await setup.both()
        defer { consumer.stop(); api.stop() }
        // Keyed by coordinate, one memory's events on one partition: the original's producer sent no
        // key, so across partitions a `deleted` could be read before its `created` (README says so).
        func original(_ type: String, _ payload: String, key: String, importance: String = "") -> String {
            key + "|"
                + #"{"event_id":"\#(UUID().uuidString.lowercased())","id":"\#(UUID().uuidString.lowercased())","namespace":"\#(setup.namespace)","type":"\#(type)","timestamp":"2026-12-01T06:00:00Z","payload":\#(payload)\#(importance)}"#
        }
        func produce(_ lines: [String]) throws {
            let file = Scratch.path("original", suffix: ".jsonl")
            try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            #expect(
                try Spawn.run(["/bin/sh", "-c", "\(Pipeline.kcat!) -P -b \(TestServers.kafkaBootstrap!) -t \(setup.topic) -K '|' < \(file.path)"])
                    == 0)
        }
        #expect(try await Pipeline.store(api, 1) == 201)
        try produce([
            original("created", #"{"text":"heron seen at the lake","coordinate":[7,-1.5],"memory_type":"semantic"}"#, key: "7,-1.5"),
            original("created", #"{"text":"osprey over the river","coordinate":"8,2"}"#, key: "8,2", importance: #","importance":4"#),
            original("updated", #"{"text":"heron nesting at the lake","coordinate":[7,-1.5],"memory_type":"semantic"}"#, key: "7,-1.5"),
            original("created", #"{"text":"to be forgotten","coordinate":[9,9]}"#, key: "9,9"),
            original("deleted", #"{"coordinate":[9,9]}"#, key: "9,9"),
        ])
        #expect(try await Pipeline.store(api, 2) == 201)
        // Counts alone pass through 4 on the way (before the delete), so wait for the final content.
        let expected: Set<String> = ["pipeline event 1 heron", "pipeline event 2 heron", "heron nesting at the lake", "osprey over the river"]
        var texts: Set<String> = []
        for _ in 0..<150 where texts != expected {
            texts = Set(try await setup.points().map(\.text))
            if texts != expected { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(texts == expected, "this build's 2 memories and the original's 2 survivors, at their newest text")
        let heron = try await api.call("GET", "/v1/memories/7,-1.5")
        #expect(heron.status == 200 && heron.json["type"] as? String == "semantic")
        let osprey = try await api.call("GET", "/v1/memories/8,2")
        #expect(osprey.json["importance"] as? Double == 4 && osprey.json["version"] as? Int == 1)
        // A replay of the osprey's event, then a new memory: once that is indexed the replay was read.
        try produce([
            original("created", #"{"text":"osprey over the river","coordinate":"8,2"}"#, key: "8,2", importance: #","importance":4"#),
            original("created", #"{"text":"kingfisher","coordinate":[10,1]}"#, key: "10,1"),
        ])
        #expect(try await setup.waitForIndexed(5, within: 30) != nil)
        #expect(try await api.call("GET", "/v1/memories/8,2").json["version"] as? Int == 1, "a replayed event changes nothing")
        #expect(try await Pipeline.metric("soma_consumer_events_dead_lettered_total", of: consumer) == 0)
    }
}
