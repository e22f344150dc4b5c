import ConformanceKit
import Foundation
import SomaCore
import SomaInProcess
import Synchronization
import Testing

/// A clock the test moves by hand, for expiry.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

func makeEngine(
    clock: TestClock = TestClock(), storage: any MemoryStorage = InProcessStorage(), configure: (inout EngineOptions) -> Void = { _ in }
) async throws -> MemoryEngine {
    var options = EngineOptions()
    configure(&options)
    let engine = MemoryEngine(
        storage: storage, cache: InProcessCache(), vectors: InProcessVectorIndex(), bus: InProcessEventBus(redeliveryAfter: .milliseconds(100)),
        embedder: HashEmbedder(dimension: 128), options: options, now: { clock.now })
    try await engine.prepare()
    return engine
}

func coord(_ text: String) -> Coordinate { try! Coordinate(parsing: text) }

func draft(_ ns: String, _ text: String, _ payload: JSONObject, type: MemoryType = .episodic) -> MemoryDraft {
    MemoryDraft(namespace: ns, coordinate: coord(text), type: type, payload: payload)
}

@Suite struct EngineWriteTests {
    @Test func storeAgainUpdatesAndBumpsVersion() async throws {
        let engine = try await makeEngine()
        let first = try await engine.store(draft("ns", "1,2", ["text": "first"]))
        let second = try await engine.store(draft("ns", "1.0, 2", ["text": "second"], type: .semantic))
        #expect(first.version == 1 && second.version == 2)
        #expect(second.id == first.id)
        #expect(try await engine.get(namespace: "ns", coordinate: coord("1,2"))?.payload == ["text": "second"])
        #expect(try await engine.stats(namespace: "ns") == MemoryCounts(episodic: 0, semantic: 1))
        #expect(second.embeddingModel == "hash-v1-128")
    }

    @Test func deleteOneAndMany() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store((1...4).map { draft("ns", "\($0)", ["i": .int(Int64($0))]) })
        #expect(try await engine.delete(namespace: "ns", coordinates: [coord("1")]) == 1)
        #expect(try await engine.delete(namespace: "ns", coordinates: [coord("2"), coord("3"), coord("99")]) == 2)
        #expect(try await engine.stats(namespace: "ns").total == 1)
        #expect(try await engine.recall(RecallRequest(namespace: "ns", query: "anything", topK: 10)).map(\.memory.coordinate) == [coord("4")])
    }

    @Test func setImportanceKeepsContent() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store(draft("ns", "1", ["text": "x"]))
        let updated = try await engine.setImportance(namespace: "ns", coordinate: coord("1"), importance: 5)
        #expect(updated.importance == 5 && updated.version == 2 && updated.payload == ["text": "x"])
        #expect(updated.importanceNormalised == Importance.normalised(5))
        await #expect(throws: EngineError.self) { try await engine.setImportance(namespace: "ns", coordinate: coord("2"), importance: 1) }
    }

    @Test func capsAreEnforcedBeforeAnythingIsWritten() async throws {
        let engine = try await makeEngine {
            $0.maxBulkItems = 3; $0.maxPayloadDepth = 2
        }
        await #expect(throws: EngineError.self) { try await engine.store((1...4).map { draft("ns", "\($0)", [:]) }) }
        let deep: JSONObject = ["a": ["b": ["c": 1]]]
        await #expect(throws: EngineError.self) { try await engine.store([draft("ns", "1", [:]), draft("ns", "2", deep)]) }
        #expect(try await engine.stats(namespace: "ns").total == 0, "a rejected bulk writes nothing")
    }

    @Test func listPagesThroughEverything() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store((1...7).map { draft("ns", "\($0)", [:]) })
        let first = try await engine.list(namespace: "ns", type: nil, cursor: nil, limit: 5)
        let second = try await engine.list(namespace: "ns", type: nil, cursor: first.nextCursor, limit: 5)
        #expect(first.memories.count == 5 && second.memories.count == 2 && second.nextCursor == nil)
        await #expect(throws: EngineError.self) { try await engine.list(namespace: "ns", type: nil, cursor: "garbage", limit: 5) }
        await #expect(throws: EngineError.self) { try await engine.list(namespace: "ns", type: nil, cursor: nil, limit: 0) }
    }
}

@Suite struct EngineRecallTests {
    @Test func recallFindsAStoreAtOnceWithScores() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store([
            draft("ns", "1", ["text": "the cat sat on the mat"]),
            draft("ns", "2", ["text": "stock markets fell sharply"], type: .semantic),
            draft("ns", "3", ["text": "a cat chased a mouse", "tag": "pets"]),
        ])
        let hits = try await engine.recall(RecallRequest(namespace: "ns", query: "cat on a mat", topK: 3))
        #expect(hits.first?.memory.coordinate == coord("1"))
        #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
        #expect(
            try await engine.recall(RecallRequest(namespace: "ns", query: "cat", topK: 3, type: .semantic)).map(\.memory.coordinate) == [coord("2")])
        #expect(
            try await engine.recall(RecallRequest(namespace: "ns", query: "cat", topK: 3, filters: ["tag": "pets"])).map(\.memory.coordinate) == [
                coord("3")
            ])
        let strict = try await engine.recall(RecallRequest(namespace: "ns", query: "cat on a mat", topK: 3, minScore: 0.5))
        #expect(strict.allSatisfy { $0.score >= 0.5 } && !strict.isEmpty)
        await #expect(throws: EngineError.self) { try await engine.recall(RecallRequest(namespace: "ns", query: "x", topK: 0)) }
    }

    @Test func keywordSearchModes() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store([draft("ns", "1", ["title": "Apple pie"]), draft("ns", "2", ["title": "apple"])])
        let any = try await engine.keywordSearch(RecallRequest(namespace: "ns", query: "apple", topK: 5))
        #expect(any.map(\.memory.coordinate) == [coord("2"), coord("1")])
        let exact = try await engine.keywordSearch(RecallRequest(namespace: "ns", query: "apple", topK: 5, exact: true))
        #expect(exact.map(\.memory.coordinate) == [coord("2")])
        let cased = try await engine.keywordSearch(RecallRequest(namespace: "ns", query: "Apple", topK: 5, caseSensitive: true))
        #expect(cased.map(\.memory.coordinate) == [coord("1")])
    }

    @Test func hybridRanksAnExactPayloadValueFirst() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store([
            draft("ns", "1", ["text": "project falcon launch plan", "notes": "falcon falcon launch"]),
            draft("ns", "2", ["text": "falcon launch", "code": "FL-7"]),
            draft("ns", "3", ["text": "FL-7"]),
        ])
        let hits = try await engine.hybridRecall(RecallRequest(namespace: "ns", query: "FL-7", topK: 3))
        #expect(hits.first?.memory.coordinate == coord("2") || hits.first?.memory.coordinate == coord("3"))
        #expect(hits.prefix(2).map(\.memory.coordinate).sorted { $0.canonical < $1.canonical } == [coord("2"), coord("3")])
        let vectorFirst = try await engine.recall(RecallRequest(namespace: "ns", query: "falcon launch", topK: 3))
        let hybrid = try await engine.hybridRecall(RecallRequest(namespace: "ns", query: "falcon launch", topK: 3))
        #expect(hybrid.first?.memory.coordinate == coord("2"), "exact value match beats rank \(vectorFirst.map(\.memory.coordinate))")
        #expect(hybrid.first!.score == 1 && hybrid.last!.score < 1, "an exact value match scores 1, others less")
    }

    @Test func contextRaisesMatchingMemories() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store([
            draft("ns", "1", ["text": "meeting notes about the budget", "project": "alpha"]),
            draft("ns", "2", ["text": "meeting notes about the budget", "project": "beta", "x": "y"]),
        ])
        let plain = try await engine.recall(RecallRequest(namespace: "ns", query: "meeting notes budget", topK: 2))
        #expect(plain.count == 2)
        for project in ["alpha", "beta"] {
            let hits = try await engine.recallWithContext(
                RecallRequest(namespace: "ns", query: "meeting notes budget", topK: 2), context: ["project": .string(project)])
            #expect(hits.first?.memory.payload["project"] == .string(project))
            #expect(hits[0].score > hits[1].score)
        }
    }

    @Test func rangeIsInclusiveAndChecked() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store(["0,0", "1,1", "2,2", "1"].map { draft("ns", $0, [:]) })
        let found = try await engine.range(namespace: "ns", min: coord("0,0"), max: coord("1,1"), type: nil)
        #expect(Set(found.map(\.coordinate)) == [coord("0,0"), coord("1,1")])
        await #expect(throws: EngineError.self) { try await engine.range(namespace: "ns", min: coord("0"), max: coord("1,1"), type: nil) }
        await #expect(throws: EngineError.self) { try await engine.range(namespace: "ns", min: coord("2,2"), max: coord("1,1"), type: nil) }
    }
}

@Suite struct EngineGraphTests {
    @Test func linksNeighboursAndPaths() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store(["1", "2", "3", "4"].map { draft("ns", $0, [:]) })
        try await engine.link(namespace: "ns", Link(from: coord("1"), to: coord("4"), type: "related", weight: 10))
        try await engine.link(namespace: "ns", Link(from: coord("1"), to: coord("2"), type: "related", weight: 1))
        try await engine.link(namespace: "ns", Link(from: coord("2"), to: coord("3"), type: "related", weight: 1))
        try await engine.link(namespace: "ns", Link(from: coord("3"), to: coord("4"), type: "causes", weight: 1))
        #expect(try await engine.neighbors(namespace: "ns", of: coord("1"), type: nil, limit: 10).count == 2)
        #expect(try await engine.neighbors(namespace: "ns", of: coord("1"), type: "related", limit: 1).count == 1)
        let path = try await engine.shortestPath(namespace: "ns", from: coord("1"), to: coord("4"), type: nil)
        #expect(path?.coordinates == [coord("1"), coord("2"), coord("3"), coord("4")] && path?.totalWeight == 3)
        let typed = try await engine.shortestPath(namespace: "ns", from: coord("1"), to: coord("4"), type: "related")
        #expect(typed?.coordinates == [coord("1"), coord("4")])
        #expect(try await engine.shortestPath(namespace: "ns", from: coord("1"), to: coord("4"), type: nil, maxDepth: 2)?.totalWeight == 10)
        #expect(try await engine.shortestPath(namespace: "ns", from: coord("4"), to: coord("1"), type: nil) == nil)
        _ = try await engine.delete(namespace: "ns", coordinates: [coord("2")])
        #expect(try await engine.neighbors(namespace: "ns", of: coord("1"), type: nil, limit: 10).map(\.to) == [coord("4")])
    }

    @Test func linkingNeedsBothEndsAndASaneWeight() async throws {
        let engine = try await makeEngine()
        _ = try await engine.store(draft("ns", "1", [:]))
        await #expect(throws: EngineError.notFound("no memory at 2 in namespace ns")) {
            try await engine.link(namespace: "ns", Link(from: coord("1"), to: coord("2")))
        }
        _ = try await engine.store(draft("ns", "2", [:]))
        await #expect(throws: EngineError.self) { try await engine.link(namespace: "ns", Link(from: coord("1"), to: coord("2"), weight: -1)) }
        await #expect(throws: EngineError.self) { try await engine.link(namespace: "ns", Link(from: coord("1"), to: coord("2"), type: "")) }
    }
}

@Suite struct EngineLifecycleTests {
    @Test func expiredMemoriesAreNeverReturnedAndGetSwept() async throws {
        let clock = TestClock()
        let engine = try await makeEngine(clock: clock)
        var shortLived = draft("ns", "1", ["text": "ephemeral note"])
        shortLived.expiresAt = clock.now.addingTimeInterval(60)
        _ = try await engine.store([shortLived, draft("ns", "2", ["text": "lasting note"])])
        #expect(try await engine.get(namespace: "ns", coordinate: coord("1")) != nil)
        clock.advance(61)
        #expect(try await engine.get(namespace: "ns", coordinate: coord("1")) == nil)
        #expect(try await engine.recall(RecallRequest(namespace: "ns", query: "ephemeral note", topK: 5)).map(\.memory.coordinate) == [coord("2")])
        #expect(try await engine.list(namespace: "ns", type: nil, cursor: nil, limit: 10).memories.map(\.coordinate) == [coord("2")])
        #expect(try await engine.keywordSearch(RecallRequest(namespace: "ns", query: "ephemeral", topK: 5)).isEmpty)
        #expect(try await engine.sweepExpired() == 1)
        #expect(try await engine.stats(namespace: "ns").total == 1)
        #expect(try await engine.vectors.count(namespace: "ns") == 1)
    }

    @Test func exportThenImportIntoAnotherNamespace() async throws {
        let clock = TestClock()
        let engine = try await makeEngine(clock: clock)
        var rich = draft("src", "1,2", ["text": "hello", "n": 2.5], type: .semantic)
        rich.importance = 3
        _ = try await engine.store([rich, draft("src", "3", ["text": "world"])])
        _ = try await engine.store(draft("src", "3", ["text": "world, again"]))
        try await engine.link(namespace: "src", Link(from: coord("1,2"), to: coord("3"), type: "led_to", weight: 2))
        let source = try await exported(engine, "src")
        #expect(source.count == 4, "a header, two memories, one link")
        clock.advance(3600)
        let outcome = try await engine.importLines(source.joined(), namespace: "dst")
        #expect(outcome == MemoryEngine.ImportOutcome(memories: 2, links: 1, unchanged: 0))
        let copied = try #require(try await engine.get(namespace: "dst", coordinate: coord("3")))
        let original = try #require(try await engine.get(namespace: "src", coordinate: coord("3")))
        // As it was, to the millisecond the export format writes times in.
        #expect(copied.version == 2 && abs(copied.createdAt.timeIntervalSince(original.createdAt)) < 0.001)
        #expect(abs(copied.updatedAt.timeIntervalSince(original.updatedAt)) < 0.001)
        #expect(try await engine.recall(RecallRequest(namespace: "dst", query: "hello", topK: 1)).first?.memory.coordinate == coord("1,2"))
        #expect(try await engine.neighbors(namespace: "dst", of: coord("1,2"), type: nil, limit: 10).map(\.to) == [coord("3")])
        // Again: nothing changes.
        #expect(try await engine.importLines(source.joined(), namespace: "dst") == MemoryEngine.ImportOutcome(memories: 0, links: 0, unchanged: 3))
        #expect(try await engine.get(namespace: "dst", coordinate: coord("3"))?.version == 2)
        // A line without a header (a version 1 export) is stored anew.
        let plain = try #require(source.first { $0.contains(#""world, again""#) })
        #expect(try await engine.importLines(plain, namespace: "fresh").memories == 1)
        #expect(try await engine.get(namespace: "fresh", coordinate: coord("3"))?.version == 1)
        await #expect(throws: EngineError.self) { try await engine.importLines("{\"coordinate\":[1],\"payload\":{}}\nnot json", namespace: "bad") }
        #expect(try await engine.stats(namespace: "bad").total == 0, "a bad line rejects the whole import")
    }

    func exported(_ engine: MemoryEngine, _ namespace: String) async throws -> [String] {
        var lines: [String] = []
        for try await line in engine.exportLines(namespace: namespace) { lines.append(String(decoding: line, as: UTF8.self)) }
        return lines
    }

    @Test func anInProcessBusKeepsEventsInTheOutboxUntilRead() async throws {
        let engine = try await makeEngine { $0.indexSynchronously = false }
        _ = try await engine.store(draft("ns", "1", ["text": "kept until read"]))
        let subscription = try await engine.bus.subscribe(group: "indexer", consumer: "c")
        let relay = OutboxRelay(storage: engine.storage, bus: engine.bus)
        #expect(try await relay.relayOnce() == 1)
        #expect(try await relay.relayOnce() == 0, "an event waiting for its reader is not published twice")
        #expect(try await engine.storage.pendingEvents(limit: 10).count == 1, "published, not yet read: still in the outbox")
        // The process dies here: a new process's relay finds the event in the outbox again.
        let restarted = InProcessEventBus()
        let again = try await restarted.subscribe(group: "indexer", consumer: "c")
        #expect(try await OutboxRelay(storage: engine.storage, bus: restarted).relayOnce() == 1)
        #expect(try await again.next(timeout: .milliseconds(200))?.event.coordinate == [1])
        // Read and acknowledged: the next pass lets it go.
        let delivery = try #require(try await subscription.next(timeout: .milliseconds(200)))
        try await subscription.acknowledge(delivery)
        #expect(try await relay.relayOnce() == 1)
        #expect(try await engine.storage.pendingEvents(limit: 10).isEmpty)
    }

    @Test func asynchronousIndexingThroughRelayAndConsumer() async throws {
        let engine = try await makeEngine { $0.indexSynchronously = false }
        _ = try await engine.store(draft("ns", "1", ["text": "indexed later"]))
        #expect(try await engine.recall(RecallRequest(namespace: "ns", query: "indexed later", topK: 1)).isEmpty)
        let relay = OutboxRelay(storage: engine.storage, bus: engine.bus)
        let consumer = EventConsumer(engine: engine)
        let subscription = try await engine.bus.subscribe(group: "indexer", consumer: "c")
        func drain() async throws {
            try await relay.relayOnce()
            while let delivery = try await subscription.next(timeout: .milliseconds(50)) {
                try await consumer.apply(delivery.event)
                try await subscription.acknowledge(delivery)
            }
        }
        try await drain()
        #expect(try await engine.recall(RecallRequest(namespace: "ns", query: "indexed later", topK: 1)).map(\.memory.coordinate) == [coord("1")])
        // Replaying the old `created` event after an update and a delete must not bring anything back.
        let stale = MemoryEvent(
            kind: .created, id: MemoryID.make(namespace: "ns", coordinate: coord("1")), namespace: "ns", coordinate: [1], type: .episodic,
            timestamp: Date(), version: 1, payload: [:])
        _ = try await engine.delete(namespace: "ns", coordinates: [coord("1")])
        try await drain()
        try await consumer.apply(stale)
        #expect(try await engine.vectors.count(namespace: "ns") == 0)
    }
}
