import Foundation
import Logging
import ServiceLifecycle
import SomaCore
import SomaInProcess
@testable import SomaService
import Testing

/// A vector index that refuses one memory's point every time, as a malformed record would be refused.
struct RefusingVectors: VectorIndex {
    struct Refused: Error {}

    let inner = InProcessVectorIndex()
    var healthy = true
    func ensureCollection(dimension: Int) async throws { try await inner.ensureCollection(dimension: dimension) }
    func upsert(_ points: [VectorPoint]) async throws {
        if points.contains(where: { $0.payload["text"] == "poison" }) { throw Refused() }
        try await inner.upsert(points)
    }
    func delete(ids: [UUID]) async throws { try await inner.delete(ids: ids) }
    func search(_ query: VectorQuery) async throws -> [VectorHit] { try await inner.search(query) }
    func count(namespace: String?) async throws -> Int { try await inner.count(namespace: namespace) }
    func isHealthy() async -> Bool { healthy }
}

struct ConsumerServiceTests {
    @Test(arguments: [true, false])
    func anEventThatFailsEveryAttemptIsDeadLetteredUnlessTheBackendIsDown(vectorsHealthy: Bool) async throws {
        var options = EngineOptions()
        options.indexSynchronously = false
        let bus = InProcessEventBus()
        var vectors = RefusingVectors()
        vectors.healthy = vectorsHealthy
        let engine = MemoryEngine(
            storage: InProcessStorage(), cache: InProcessCache(), vectors: vectors, bus: bus,
            embedder: HashEmbedder(dimension: 64), options: options)
        try await engine.prepare()
        for (coordinate, text) in [("1", "before"), ("2", "poison"), ("3", "after")] {
            _ = try await engine.store(
                MemoryDraft(namespace: "ns", coordinate: try Coordinate(parsing: coordinate), payload: ["text": .string(text)]))
        }
        try await OutboxRelay(storage: engine.storage, bus: bus).relayOnce()

        var policy = ConsumerPolicy()
        policy.maxAttempts = 3
        policy.backoff = .milliseconds(10)
        policy.maxBackoff = .milliseconds(40)
        let consumer = ConsumerService(engine: engine, group: "g", policy: policy, logger: Logger(label: "test"))
        let run = Task { try await consumer.run() }
        let started = ContinuousClock.now
        // Down, the poison event is retried far beyond its attempts (40 ms apart) and never set aside.
        // Healthy, the loop ends once the events are through; its bound only has to outlast a busy
        // machine (beside the full suite on two cores, 10 s once did not).
        while started.duration(to: .now) < (vectorsHealthy ? .seconds(60) : .seconds(1)) {
            let applied = try await vectors.count(namespace: "ns")
            if !bus.deadLetters.isEmpty, applied >= 2 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        run.cancel()
        _ = try? await run.value

        guard vectorsHealthy else {
            #expect(bus.deadLetters.isEmpty, "an outage delays events; it never dead-letters them")
            return
        }
        #expect(bus.deadLetters.map(\.event.payload["text"]) == [.string("poison")])
        #expect(bus.deadLetters.first?.reason.contains("Refused") == true, "the error goes with it: \(bus.deadLetters.first?.reason ?? "")")
        #expect(try await vectors.count(namespace: "ns") == 2, "the events around it were applied")
    }

    @Test func backoffDoublesUpToItsCap() {
        var policy = ConsumerPolicy()
        policy.backoff = .milliseconds(100)
        policy.maxBackoff = .milliseconds(500)
        #expect(
            [1, 2, 3, 4, 10].map(policy.delay(after:)) == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500),
            ])
    }
}
