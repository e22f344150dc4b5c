import Foundation
import Logging
import Testing
@testable import SomaCore

@Suite struct PathSearchTests {
    let a = try! Coordinate([1]), b = try! Coordinate([2]), c = try! Coordinate([3]), d = try! Coordinate([4])

    func run(_ links: [Link], from: Coordinate, to: Coordinate, maxDepth: Int) -> PathResult? {
        var search = PathSearch(start: from, goal: to, maxDepth: maxDepth)
        while let node = search.nextToExpand() {
            search.expand(node, links: links.filter { $0.from == node })
        }
        return search.result
    }

    @Test func cheapestPathWinsOverFewestHops() {
        let links = [
            Link(from: a, to: d, weight: 10), Link(from: a, to: b, weight: 1), Link(from: b, to: c, weight: 1), Link(from: c, to: d, weight: 1),
        ]
        let path = run(links, from: a, to: d, maxDepth: 5)
        #expect(path?.coordinates == [a, b, c, d])
        #expect(path?.totalWeight == 3)
    }

    @Test func depthBoundLimitsHops() {
        let links = [
            Link(from: a, to: d, weight: 10), Link(from: a, to: b, weight: 1), Link(from: b, to: c, weight: 1), Link(from: c, to: d, weight: 1),
        ]
        #expect(run(links, from: a, to: d, maxDepth: 2)?.coordinates == [a, d])
        #expect(run([Link(from: a, to: b), Link(from: b, to: c)], from: a, to: c, maxDepth: 1) == nil)
    }

    @Test func noPathAndCyclesEnd() {
        let links = [Link(from: a, to: b), Link(from: b, to: a)]
        #expect(run(links, from: a, to: c, maxDepth: 10) == nil)
        #expect(run(links, from: a, to: a, maxDepth: 3)?.coordinates == [a])
    }
}

@Suite struct KeywordQueryTests {
    @Test func exactOutranksSubstring() {
        let query = KeywordQuery(term: "apple")
        #expect(query.score(["t": "apple"]) > query.score(["t": "apple pie"]))
        #expect(query.score(["t": "pear"]) == 0)
        #expect(KeywordQuery(term: "apple", exact: true).score(["t": "apple pie"]) == 0)
        #expect(KeywordQuery(term: "Apple", caseSensitive: true).score(["t": "apple"]) == 0)
        #expect(query.score(["a": "apple", "b": ["apple tree"]]) > query.score(["a": "apple"]))
    }

    @Test func payloadFilterUsesJSONEquality() {
        #expect(PayloadFilter.matches(["n": 1, "s": "x"], ["n": 1.0]))
        #expect(!PayloadFilter.matches(["n": 1], ["n": "1"]))
        #expect(!PayloadFilter.matches([:], ["n": 1]))
    }
}

@Suite struct RankingTests {
    func hit(_ coordinate: [Double], _ score: Double) -> ScoredMemory {
        let now = Date(timeIntervalSince1970: 0)
        return ScoredMemory(
            memory: Memory(
                namespace: "n", coordinate: try! Coordinate(coordinate), type: .episodic, payload: [:], createdAt: now, updatedAt: now, version: 1),
            score: score)
    }

    /// Higher scores first; equal scores by the coordinate's text, so "1,25" precedes "12,3" and
    /// "10" precedes "9"; memories named first lead whatever their score.
    @Test func scoresThenCoordinateTextThenLeadsFirst() {
        let hits = [hit([9], 0.5), hit([12, 3], 0.5), hit([10], 0.5), hit([1, 25], 0.5), hit([7], 0.9), hit([8], 0.1)]
        #expect(MemoryEngine.ranked(hits).map(\.memory.coordinate.canonical) == ["7", "1,25", "10", "12,3", "9", "8"])
        let lead = hits[5].memory.id
        #expect(MemoryEngine.ranked(hits, first: [lead]).map(\.memory.coordinate.canonical) == ["8", "7", "1,25", "10", "12,3", "9"])
    }
}

@Suite struct RegistryAndEventTests {
    @Test func unknownBackendListsKnownNames() async {
        var registry = BackendRegistry()
        registry.registerEmbedder(BackendDescription(name: "hash")) { _ in Provisioned(HashEmbedder()) }
        registry.registerEmbedder(BackendDescription(name: "other")) { _ in Provisioned(HashEmbedder(dimension: 8)) }
        let dimension = try? await BackendLifetime.during(logger: Logger(label: "test")) { [registry] lifetime in
            await #expect(throws: BackendError.unknownBackend(capability: .embedder, name: "nope", known: ["hash", "other"])) {
                _ = try await registry.makeEmbedder("nope", BackendConfiguration([:]), in: lifetime)
            }
            return try await registry.makeEmbedder("other", BackendConfiguration([:]), in: lifetime).dimension
        }
        #expect(dimension == 8)
        #expect(BackendError.unknownBackend(capability: .storage, name: "x", known: ["a", "b"]).description.contains("a, b"))
    }

    @Test func typedSettingsReadTheirTypeAndRefuseOthersByName() throws {
        let config = BackendConfiguration(["N": "12", "BAD": "twelve", "FLAG": "maybe", "FAR": "99", "LIST": " a, ,b ", "MODE": "RRF"])
        #expect(try config.value(Setting<Int>("N", default: 1, "n")) == 12)
        #expect(try config.value(Setting<Int>("MISSING", default: 1, "n")) == 1)
        #expect(try config.value(Setting<Int?>("MISSING", "n")) == nil)
        #expect(try config.value(Setting<SettingList>("LIST", default: SettingList([]), "l")).items == ["a", "b"])
        #expect(try config.value(Setting<HybridFusion>("MODE", default: .weighted, "m")) == .rrf)
        #expect(throws: BackendError.invalidSetting(name: "BAD", reason: "expected an integer, got 'twelve'")) {
            try config.value(Setting<Int>("BAD", default: 1, "n"))
        }
        #expect(throws: BackendError.invalidSetting(name: "FAR", reason: "must be between 1 and 10, got 99")) {
            try config.value(Setting<Int>("FAR", default: 1, in: 1...10, "n"))
        }
        #expect(throws: BackendError.self) { try config.value(Setting<Bool>("FLAG", default: true, "f")) }
        #expect(throws: BackendError.invalidSetting(name: "N", reason: "must be one of: weighted, rrf, got '12'")) {
            try config.value(Setting<HybridFusion>("N", default: .weighted, "m"))
        }
        // A file's typed values are read as their type, not flattened to text first.
        let typed = BackendConfiguration(raw: { ["N": .int(7), "X": .double(0.25), "B": .bool(false)][$0] })
        #expect(try typed.value(Setting<Int>("N", default: 1, "n")) == 7)
        #expect(try typed.value(Setting<Double>("X", default: 1, "x")) == 0.25)
        #expect(try typed.value(Setting<Bool>("B", default: true, "b")) == false)
        #expect(Setting<Int>("N", default: 5, "n").described.defaultValue == "5")
        #expect(Setting<Int?>("N", shownDefault: "the cores", "n").described.defaultValue == "the cores")
    }

    @Test func eventJSONCarriesRFC3339Times() throws {
        let memory = Memory(
            namespace: "ns", coordinate: try Coordinate([1, 2]), type: .semantic, payload: ["k": "v"],
            createdAt: Date(timeIntervalSince1970: 1_700_000_000.25), updatedAt: Date(timeIntervalSince1970: 1_700_000_000.25), version: 3)
        let event = MemoryEvent(.updated, of: memory, at: memory.updatedAt)
        let data = try SomaJSON.encoder().encode(event)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"timestamp\":\"2023-11-14T22:13:20.250Z\""))
        #expect(text.contains("\"event\":\"updated\""))
        #expect(try SomaJSON.decoder().decode(MemoryEvent.self, from: data) == event)
    }
}

/// The published JSON Schema (docs/memory-event.schema.json) must describe what the encoder writes.
struct EventSchemaTests {
    @Test func theSchemaFileDescribesTheEncodedEvent() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/memory-event.schema.json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let properties = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
        let required = Set(schema["required"] as? [String] ?? [])
        var memory = Memory(
            namespace: "ns", coordinate: try Coordinate([1]), type: .episodic, payload: ["k": "v"],
            createdAt: Date(), updatedAt: Date(), version: 1)
        memory.embeddingModel = "hash-v1-384"
        let encoded = try SomaJSON.encoder().encode(MemoryEvent(.created, of: memory, at: Date()))
        let keys = Set(try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any]).keys)
        #expect(keys == properties, "every written field is documented, and nothing more")
        #expect(required.isSubset(of: keys))
        let kinds = Set(((schema["properties"] as? [String: Any])?["event"] as? [String: Any])?["enum"] as? [String] ?? [])
        #expect(kinds == Set(MemoryEvent.Kind.allCases.map(\.rawValue)))
    }
}
