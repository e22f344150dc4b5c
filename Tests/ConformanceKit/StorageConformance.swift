import Foundation
import SomaCore
import Testing

/// The behaviour every `MemoryStorage` must show.
public enum StorageConformance {
    public typealias Check = ConformanceCheck<any MemoryStorage>

    public static let checks: [Check] = basics + WordSearchConformance.checks

    static let basics: [Check] = [
        Check("round trip") { storage in
            let ns = Fixture.namespace()
            let coordinate = Fixture.coordinate(1, 2.5, -3)
            let now = Fixture.now
            var draft = Fixture.draft(ns, coordinate, ["text": "hello", "n": 3, "nested": ["a": [1, 2]]], type: .semantic)
            draft.importance = 7
            draft.expiresAt = now.addingTimeInterval(3600)
            draft.embeddingModel = "model-x"
            let stored = try await storage.upsert([draft], at: now)
            #expect(stored.count == 1)
            let memory = try #require(try await storage.get(namespace: ns, coordinate: coordinate))
            #expect(memory == stored[0])
            #expect(memory.id == MemoryID.make(namespace: ns, coordinate: coordinate))
            #expect(memory.payload == draft.payload)
            #expect(memory.type == .semantic)
            #expect(memory.importance == 7)
            #expect(memory.version == 1)
            #expect(memory.createdAt == now && memory.updatedAt == now)
            #expect(memory.expiresAt == now.addingTimeInterval(3600))
            #expect(memory.embeddingModel == "model-x")
            #expect(try await storage.get(namespace: ns, ids: [memory.id, UUID()]) == [memory])
            #expect(try await storage.get(namespace: ns, coordinate: Fixture.coordinate(9, 9)) == nil)
        },
        Check("update bumps version and keeps created time") { storage in
            let ns = Fixture.namespace()
            let coordinate = Fixture.coordinate(1, 1)
            let first = Fixture.now
            _ = try await storage.upsert([Fixture.draft(ns, coordinate, ["v": 1])], at: first)
            let later = first.addingTimeInterval(5)
            let updated = try await storage.upsert([Fixture.draft(ns, coordinate, ["v": 2], type: .semantic)], at: later)[0]
            #expect(updated.version == 2)
            #expect(updated.createdAt == first)
            #expect(updated.updatedAt == later)
            #expect(try await storage.get(namespace: ns, coordinate: coordinate)?.payload == ["v": 2])
            #expect(try await storage.counts(namespace: ns) == MemoryCounts(episodic: 0, semantic: 1))
        },
        Check("bulk upsert writes every record") { storage in
            let ns = Fixture.namespace()
            let drafts = (0..<50).map {
                Fixture.draft(ns, Fixture.coordinate(Double($0)), ["i": .int(Int64($0))], type: $0 % 2 == 0 ? .episodic : .semantic)
            }
            let stored = try await storage.upsert(drafts, at: Fixture.now)
            #expect(stored.count == 50)
            #expect(try await storage.counts(namespace: ns) == MemoryCounts(episodic: 25, semantic: 25))
        },
        Check("delete removes record, counts and links") { storage in
            let ns = Fixture.namespace()
            let a = Fixture.coordinate(1), b = Fixture.coordinate(2)
            _ = try await storage.upsert([Fixture.draft(ns, a, ["x": "a"]), Fixture.draft(ns, b, ["x": "b"])], at: Fixture.now)
            try await storage.addLink(namespace: ns, link: Link(from: a, to: b))
            try await storage.addLink(namespace: ns, link: Link(from: b, to: a))
            let deleted = try await storage.delete(namespace: ns, coordinates: [b, Fixture.coordinate(3)], at: Fixture.now)
            #expect(deleted.map(\.coordinate) == [b])
            #expect(try await storage.get(namespace: ns, coordinate: b) == nil)
            #expect(try await storage.counts(namespace: ns).total == 1)
            #expect(try await storage.links(namespace: ns, from: a, type: nil, limit: 10).isEmpty)
            #expect(try await storage.links(namespace: ns, from: b, type: nil, limit: 10).isEmpty)
            #expect(try await storage.links(namespace: ns, to: a, type: nil, limit: 10).isEmpty, "the deleted memory's link to a went with it")
        },
        Check("namespaces are kept apart") { storage in
            let one = Fixture.namespace("one"), two = Fixture.namespace("two")
            let coordinate = Fixture.coordinate(5, 5)
            _ = try await storage.upsert([Fixture.draft(one, coordinate, ["owner": "one"])], at: Fixture.now)
            _ = try await storage.upsert([Fixture.draft(two, coordinate, ["owner": "two"])], at: Fixture.now)
            #expect(try await storage.get(namespace: one, coordinate: coordinate)?.payload["owner"] == "one")
            #expect(try await storage.get(namespace: two, coordinate: coordinate)?.payload["owner"] == "two")
            let idOfOne = MemoryID.make(namespace: one, coordinate: coordinate)
            #expect(try await storage.get(namespace: two, ids: [idOfOne]).isEmpty)
            #expect(try await storage.list(namespace: one, type: nil, after: nil, limit: 10).memories.count == 1)
            #expect(try await storage.keywordSearch(namespace: one, query: KeywordQuery(term: "two"), type: nil, limit: 10).isEmpty)
            #expect(
                try await storage.range(namespace: one, min: Fixture.coordinate(0, 0), max: Fixture.coordinate(9, 9), type: nil, limit: 10).count == 1
            )
            _ = try await storage.delete(namespace: one, coordinates: [coordinate], at: Fixture.now)
            #expect(try await storage.get(namespace: two, coordinate: coordinate) != nil)
            #expect(try await storage.counts(namespace: two).total == 1)
        },
        Check("list pages with a cursor") { storage in
            let ns = Fixture.namespace()
            let drafts = (0..<25).map {
                Fixture.draft(ns, Fixture.coordinate(Double($0), 0), ["i": .int(Int64($0))], type: $0 < 5 ? .semantic : .episodic)
            }
            _ = try await storage.upsert(drafts, at: Fixture.now)
            var seen: [UUID] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await storage.list(namespace: ns, type: nil, after: cursor, limit: 10)
                seen += page.memories.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.count == 25 && Set(seen).count == 25)
            let semantic = try await storage.list(namespace: ns, type: .semantic, after: nil, limit: 10)
            #expect(semantic.memories.count == 5 && semantic.nextCursor == nil)
        },
        Check("range is an inclusive box") { storage in
            let ns = Fixture.namespace()
            let inside = [Fixture.coordinate(0, 0), Fixture.coordinate(1, 1), Fixture.coordinate(0.5, 1)]
            let outside = [Fixture.coordinate(1.5, 0), Fixture.coordinate(-0.1, 0.5), Fixture.coordinate(0.5, 0.5, 0.5)]
            _ = try await storage.upsert((inside + outside).map { Fixture.draft(ns, $0, ["p": "x"]) }, at: Fixture.now)
            let found = try await storage.range(namespace: ns, min: Fixture.coordinate(0, 0), max: Fixture.coordinate(1, 1), type: nil, limit: 100)
            #expect(Set(found.map(\.coordinate)) == Set(inside))
            let none = try await storage.range(
                namespace: ns, min: Fixture.coordinate(0, 0), max: Fixture.coordinate(1, 1), type: .semantic, limit: 100)
            #expect(none.isEmpty)
        },
        Check("keyword search: exact, substring, case") { storage in
            let ns = Fixture.namespace()
            _ = try await storage.upsert(
                [
                    Fixture.draft(ns, Fixture.coordinate(1), ["title": "Apple pie", "tags": ["dessert"]]),
                    Fixture.draft(ns, Fixture.coordinate(2), ["title": "apple"]),
                    Fixture.draft(ns, Fixture.coordinate(3), ["title": "pear"], type: .semantic),
                    Fixture.draft(ns, Fixture.coordinate(4), ["note": ["deep": "pineapple"]]),
                ], at: Fixture.now)
            func coords(_ query: KeywordQuery, _ type: MemoryType? = nil) async throws -> [Coordinate] {
                try await storage.keywordSearch(namespace: ns, query: query, type: type, limit: 10).map(\.coordinate)
            }
            let substring = try await coords(KeywordQuery(term: "apple"))
            #expect(Set(substring) == [Fixture.coordinate(1), Fixture.coordinate(2), Fixture.coordinate(4)])
            #expect(substring.first == Fixture.coordinate(2), "an exact value match ranks first")
            #expect(try await coords(KeywordQuery(term: "apple", exact: true)) == [Fixture.coordinate(2)])
            #expect(Set(try await coords(KeywordQuery(term: "Apple", caseSensitive: true))) == [Fixture.coordinate(1)])
            #expect(try await coords(KeywordQuery(term: "APPLE PIE", exact: true)) == [Fixture.coordinate(1)])
            #expect(try await coords(KeywordQuery(term: "dessert", exact: true)) == [Fixture.coordinate(1)])
            #expect(try await coords(KeywordQuery(term: "pe"), .semantic) == [Fixture.coordinate(3)])
            #expect(try await coords(KeywordQuery(term: "zzz")).isEmpty)
        },
        Check("recent: newest write first, limited, one namespace") { storage in
            let ns = Fixture.namespace()
            let start = Fixture.now
            for index in 0..<5 {
                _ = try await storage.upsert(
                    [Fixture.draft(ns, Fixture.coordinate(Double(index)), ["i": .int(Int64(index))])], at: start.addingTimeInterval(Double(index)))
            }
            // Rewriting the oldest makes it the newest; another namespace's records never show.
            _ = try await storage.upsert([Fixture.draft(ns, Fixture.coordinate(0), ["i": 9])], at: start.addingTimeInterval(10))
            _ = try await storage.upsert([Fixture.draft(Fixture.namespace(), Fixture.coordinate(7), [:])], at: start.addingTimeInterval(20))
            let newest = try await storage.recent(namespace: ns, limit: 3)
            #expect(newest.map(\.coordinate) == [0, 4, 3].map { Fixture.coordinate(Double($0)) })
            #expect(try await storage.recent(namespace: ns, limit: 10).count == 5)
        },
        Check("links: add, replace, filter by type, limit") { storage in
            let ns = Fixture.namespace()
            let a = Fixture.coordinate(1), b = Fixture.coordinate(2), c = Fixture.coordinate(3)
            _ = try await storage.upsert([a, b, c].map { Fixture.draft(ns, $0, [:]) }, at: Fixture.now)
            try await storage.addLink(namespace: ns, link: Link(from: a, to: b, type: "related", weight: 2))
            try await storage.addLink(namespace: ns, link: Link(from: a, to: b, type: "related", weight: 0.5))
            try await storage.addLink(namespace: ns, link: Link(from: a, to: c, type: "causes", weight: 1))
            let all = try await storage.links(namespace: ns, from: a, type: nil, limit: 10)
            #expect(all.count == 2)
            #expect(all.first { $0.to == b }?.weight == 0.5)
            #expect(try await storage.links(namespace: ns, from: a, type: "causes", limit: 10).map(\.to) == [c])
            #expect(try await storage.links(namespace: ns, from: a, type: nil, limit: 1).count == 1)
            #expect(try await storage.links(namespace: ns, from: b, type: nil, limit: 10).isEmpty, "links are directed")
            // Incoming: the same links read from their targets, with both ends filled in.
            let intoB = try await storage.links(namespace: ns, to: b, type: nil, limit: 10)
            #expect(intoB.map(\.from) == [a] && intoB.map(\.to) == [b] && intoB.first?.weight == 0.5)
            #expect(try await storage.links(namespace: ns, to: c, type: "related", limit: 10).isEmpty)
            #expect(try await storage.links(namespace: ns, to: c, type: "causes", limit: 10).map(\.from) == [a])
            #expect(try await storage.links(namespace: ns, to: a, type: nil, limit: 10).isEmpty, "nothing points at a")
        },
        Check("outbox records every change in order") { storage in
            let ns = Fixture.namespace()
            let a = Fixture.coordinate(1), b = Fixture.coordinate(2)
            _ = try await storage.upsert([Fixture.draft(ns, a, ["v": 1]), Fixture.draft(ns, b, ["v": 1])], at: Fixture.now)
            _ = try await storage.upsert([Fixture.draft(ns, a, ["v": 2])], at: Fixture.now)
            try await storage.addLink(namespace: ns, link: Link(from: a, to: b))
            _ = try await storage.delete(namespace: ns, coordinates: [b], at: Fixture.now)
            // A window far past what the other checks leave pending where suites share one database
            // (PostgreSQL).
            let mine = try await storage.pendingEvents(limit: 100_000).filter { $0.event.namespace == ns }
            try #require(mine.map(\.event.kind) == [.created, .created, .updated, .linked, .deleted])
            #expect(mine.map(\.sequence) == mine.map(\.sequence).sorted())
            #expect(mine[2].event.version == 2 && mine[2].event.payload == ["v": 2])
            #expect(mine[0].event.id == MemoryID.make(namespace: ns, coordinate: a))
            try await storage.markRelayed(mine.map(\.sequence))
            #expect(try await storage.pendingEvents(limit: 100_000).filter { $0.event.namespace == ns }.isEmpty)
        },
        Check("expired records are deleted by the sweep") { storage in
            let ns = Fixture.namespace()
            let now = Fixture.now
            var old = Fixture.draft(ns, Fixture.coordinate(1), ["x": "old"])
            old.expiresAt = now.addingTimeInterval(-1)
            var fresh = Fixture.draft(ns, Fixture.coordinate(2), ["x": "fresh"])
            fresh.expiresAt = now.addingTimeInterval(3600)
            _ = try await storage.upsert([old, fresh, Fixture.draft(ns, Fixture.coordinate(3), [:])], at: now)
            let removed = try await storage.deleteExpired(before: now, limit: 10_000).filter { $0.namespace == ns }
            #expect(removed.map(\.coordinate) == [Fixture.coordinate(1)])
            #expect(try await storage.counts(namespace: ns).total == 2)
        },
        Check("records to embed: by model, in id order, resumable; stamps follow versions") { storage in
            let ns = Fixture.namespace()
            let model = "model-\(UUID().uuidString)"
            let drafts = (0..<5).map { number -> MemoryDraft in
                var draft = Fixture.draft(ns, Fixture.coordinate(Double(number)), ["n": .int(Int64(number))])
                // Two other models: their records are found by separate seeks and merged in id order.
                draft.embeddingModel = number < 2 ? model : number < 4 ? "older-model" : "oldest-model"
                return draft
            }
            let stored = try await storage.upsert(drafts, at: Fixture.now)
            /// Every page after `cursor`, two at a time, keeping this namespace's records.
            func walk(_ model: String?) async throws -> [Memory] {
                var found: [Memory] = [], cursor: UUID?
                while true {
                    let page = try await storage.memoriesToEmbed(notEmbeddedWith: model, after: cursor, limit: 2)
                    guard let last = page.last else { return found }
                    #expect(page.count <= 2)
                    found += page.filter { $0.namespace == ns }
                    cursor = last.id
                }
            }
            let stale = try await walk(model)
            #expect(Set(stale.map(\.coordinate)) == Set(stored[2...].map(\.coordinate)))
            #expect(stale.map { $0.id.uuidString.lowercased() } == stale.map { $0.id.uuidString.lowercased() }.sorted())
            #expect(try await walk(nil).isEmpty, "no record of this namespace failed its indexing")

            // A failed index clears the stamp; an outdated version's stamp is not applied.
            try await storage.recordEmbedding([RecordVersion(stored[0])], model: nil)
            #expect(try await walk(nil).map(\.coordinate) == [stored[0].coordinate])
            _ = try await storage.upsert([drafts[3]], at: Fixture.now.addingTimeInterval(1))
            try await storage.recordEmbedding(stored[1...].map(RecordVersion.init), model: model)
            #expect(Set(try await walk(model).map(\.coordinate)) == [stored[0].coordinate, stored[3].coordinate])
            #expect(try await storage.get(namespace: ns, coordinate: stored[2].coordinate)?.embeddingModel == model)
        },
        Check("service values: set, replace, remove") { storage in
            let key = "test.\(UUID().uuidString)", other = key + ".other"
            #expect(try await storage.serviceValue(key) == nil)
            try await storage.setServiceValues([key: "1", other: "a"])
            try await storage.setServiceValues([key: "2"])
            #expect(try await storage.serviceValue(key) == "2")
            try await storage.setServiceValues([key: nil])
            #expect(try await storage.serviceValue(key) == nil)
            #expect(try await storage.serviceValue(other) == "a")
        },
    ]
}
