import Foundation

/// The canonical, durable records: memories, links and the outbox of events.
/// Every method acts in one namespace; none ever crosses namespaces.
public protocol MemoryStorage: Sendable {
    /// Writes drafts in one transaction, with one outbox event each (`created` or `updated`).
    /// A coordinate stored again keeps its `createdAt` and gets `version + 1`.
    func upsert(_ drafts: [MemoryDraft], at now: Date) async throws -> [Memory]

    func get(namespace: String, coordinate: Coordinate) async throws -> Memory?
    /// Records for the given ids; missing ids are left out, order not guaranteed.
    func get(namespace: String, ids: [UUID]) async throws -> [Memory]

    /// Deletes records, their links and writes `deleted` events; returns what was deleted.
    func delete(namespace: String, coordinates: [Coordinate], at now: Date) async throws -> [Memory]

    /// Records in a stable order, `limit` at a time, resuming after `cursor`.
    func list(namespace: String, type: MemoryType?, after cursor: String?, limit: Int) async throws -> MemoryPage

    /// Records inside the inclusive box; dimensions must match.
    func range(namespace: String, min: Coordinate, max: Coordinate, type: MemoryType?, limit: Int) async throws -> [Memory]

    /// Memories holding any query word and every phrase word, ranked by `scoring` with statistics
    /// of the whole namespace (documents, lengths, how many hold each word; a type filter narrows
    /// the hits, not the statistics); best first, ties in the backend's own stable order. Words come from `DocumentWords` of the
    /// payload. Phrase adjacency is the engine's to check. `WordIndex` states the expected answer for
    /// words held by at most `WordSearchBounds.postingsPerWord` memories; a word held by more is read
    /// for that many of its strongest holders (by `BM25.impact` at write time).
    func wordSearch(namespace: String, query: WordQuery, scoring: BM25, type: MemoryType?, limit: Int) async throws -> WordMatches

    /// Records whose payload string values equal or contain a term, best first (see `KeywordQuery`):
    /// the original service's keyword search.
    func keywordSearch(namespace: String, query: KeywordQuery, type: MemoryType?, limit: Int) async throws -> [Memory]

    /// Adds or replaces the link (from, to, type) and writes a `linked` event.
    func addLink(namespace: String, link: Link) async throws
    /// Outgoing links of a memory, optionally of one type.
    func links(namespace: String, from: Coordinate, type: String?, limit: Int) async throws -> [Link]
    /// Incoming links of a memory, optionally of one type.
    func links(namespace: String, to: Coordinate, type: String?, limit: Int) async throws -> [Link]

    func counts(namespace: String) async throws -> MemoryCounts

    /// Deletes up to `limit` records whose `expiresAt` has passed (in any namespace), with `deleted` events.
    func deleteExpired(before now: Date, limit: Int) async throws -> [Memory]

    /// Outbox events not yet relayed, oldest first.
    func pendingEvents(limit: Int) async throws -> [OutboxEntry]
    func markRelayed(_ sequence: [Int64]) async throws

    /// True when the backend answers.
    func isHealthy() async -> Bool

    // MARK: Embedding upkeep (repair and reindex)

    /// Records whose vector must be made, across namespaces, in id order after `cursor`: with
    /// `model` nil, those whose indexing failed (no model recorded); otherwise every record not
    /// embedded with `model`.
    func memoriesToEmbed(notEmbeddedWith model: String?, after cursor: UUID?, limit: Int) async throws -> [Memory]
    /// Records which model embedded each record version (nil: its indexing failed and must be
    /// retried). A record changed since keeps its own stamp. No event is written.
    func recordEmbedding(_ versions: [RecordVersion], model: String?) async throws

    /// Service-wide values kept beside the records (the active embedding model, a reindex in progress).
    func serviceValue(_ key: String) async throws -> String?
    /// Sets several values (nil removes one) in one transaction.
    func setServiceValues(_ values: [String: String?]) async throws
}

/// One version of one record.
public struct RecordVersion: Sendable, Equatable {
    public var id: UUID
    public var version: Int

    public init(id: UUID, version: Int) {
        self.id = id
        self.version = version
    }

    public init(_ memory: Memory) {
        self.init(id: memory.id, version: memory.version)
    }
}

/// An event waiting in the outbox, with its position in write order.
public struct OutboxEntry: Sendable, Equatable {
    public var sequence: Int64
    public var event: MemoryEvent

    public init(sequence: Int64, event: MemoryEvent) {
        self.sequence = sequence
        self.event = event
    }
}

/// A keyword query over payload string values.
/// `exact`: a value equals the term; otherwise a value contains it.
public struct KeywordQuery: Sendable, Equatable {
    public var term: String
    public var exact: Bool
    public var caseSensitive: Bool

    public init(term: String, exact: Bool = false, caseSensitive: Bool = false) {
        self.term = term
        self.exact = exact
        self.caseSensitive = caseSensitive
    }

    /// The text a backend's full-text index holds for a payload: its string values, one per line.
    public static func searchableText(_ payload: JSONObject) -> String {
        JSONValue.object(payload).stringLeaves.joined(separator: "\n")
    }

    /// How well a payload matches: 0 for no match. An exact value match outranks any substring match,
    /// and more matching values outrank fewer. Backends that search in their own engine still rank by this.
    public func score(_ payload: JSONObject) -> Double {
        let needle = caseSensitive ? term : term.lowercased()
        guard !needle.isEmpty else { return 0 }
        var score = 0.0
        for value in JSONValue.object(payload).stringLeaves {
            let haystack = caseSensitive ? value : value.lowercased()
            if haystack == needle {
                score += 10
            } else if !exact, haystack.contains(needle) {
                score += 1
            }
        }
        return score
    }

    /// The matching memories, best first (ties by coordinate), at most `limit`.
    public func rank(_ memories: some Sequence<Memory>, limit: Int) -> [Memory] {
        let scored = memories.compactMap { memory -> (Memory, Double)? in
            let value = score(memory.payload)
            return value > 0 ? (memory, value) : nil
        }
        return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.coordinate.canonical < $1.0.coordinate.canonical }
            .prefix(limit).map(\.0)
    }
}
