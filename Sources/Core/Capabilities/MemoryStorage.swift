import Foundation

/// The canonical, durable records: memories, links and the outbox of events. Every method acts in
/// one namespace; none ever crosses namespaces. The protocol is the sum of its concerns, so each
/// reads on its own; what a backend may lack it declares (`wordSearching`, `transactionDomain`)
/// and the engine takes the declared path, never a downcast.
public protocol MemoryStorage: MemoryRecords, MemoryLinks, EventOutbox, StorageUpkeep {
    /// Its own full-text (BM25) search, or nil: the engine then scores words by reading the
    /// namespace's records (`ScannedWordSearch`), correct but linear in the namespace's size.
    var wordSearching: (any WordSearching)? { get }
    /// The database its transactions write to, when a vector index may share them (a
    /// `RecordBoundVectorIndex` of the same domain writes vectors in the record's transaction).
    var transactionDomain: ObjectIdentifier? { get }
}

extension MemoryStorage {
    public var wordSearching: (any WordSearching)? { nil }
    public var transactionDomain: ObjectIdentifier? { nil }
}

extension MemoryRecords {
    public func recent(namespace: String, limit: Int) async throws -> [Memory] {
        var newest: [Memory] = []
        var cursor: String?
        repeat {
            let page = try await list(namespace: namespace, type: nil, after: cursor, limit: 1000)
            newest = Array((newest + page.memories).sorted(by: Memory.newerFirst).prefix(limit))
            cursor = page.nextCursor
        } while cursor != nil
        return newest
    }
}

extension Memory {
    /// Newest write first; the id breaks ties, so the order is the same in every backend.
    public static func newerFirst(_ a: Memory, _ b: Memory) -> Bool {
        a.updatedAt != b.updatedAt ? a.updatedAt > b.updatedAt : a.id.uuidString.lowercased() < b.id.uuidString.lowercased()
    }
}

/// Memories: written with their outbox events, read by coordinate, id, page, box and value.
public protocol MemoryRecords: Sendable {
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

    /// The `limit` most recently written records, newest first (ties by id). A default reads
    /// every page of `list`; a database answers from an index on the write time.
    func recent(namespace: String, limit: Int) async throws -> [Memory]

    /// Records inside the inclusive box; dimensions must match.
    func range(namespace: String, min: Coordinate, max: Coordinate, type: MemoryType?, limit: Int) async throws -> [Memory]

    /// Records whose payload string values equal or contain a term, best first (see `KeywordQuery`):
    /// the original service's keyword search.
    func keywordSearch(namespace: String, query: KeywordQuery, type: MemoryType?, limit: Int) async throws -> [Memory]

    func counts(namespace: String) async throws -> MemoryCounts

    /// True when the backend answers.
    func isHealthy() async -> Bool
}

/// Full-text search over the words of payloads, kept in the records' transactions.
public protocol WordSearching: Sendable {
    /// Memories holding any query word and every phrase word, ranked by `scoring` with statistics
    /// of the whole namespace (documents, lengths, how many hold each word; a type filter narrows
    /// the hits, not the statistics); best first, ties in the backend's own stable order. Words come
    /// from `DocumentWords` of the payload. Phrase adjacency is the engine's to check. `WordIndex`
    /// states the expected answer for words held by at most `WordSearchBounds.postingsPerWord`
    /// memories; a word held by more is read for that many of its strongest holders (by
    /// `BM25.impact` at write time).
    func wordSearch(namespace: String, query: WordQuery, scoring: BM25, type: MemoryType?, limit: Int) async throws -> WordMatches
}

/// The directed, typed, weighted links between memories.
public protocol MemoryLinks: Sendable {
    /// Adds or replaces the link (from, to, type) and writes a `linked` event.
    func addLink(namespace: String, link: Link) async throws
    /// Outgoing links of a memory, optionally of one type.
    func links(namespace: String, from: Coordinate, type: String?, limit: Int) async throws -> [Link]
    /// Incoming links of a memory, optionally of one type.
    func links(namespace: String, to: Coordinate, type: String?, limit: Int) async throws -> [Link]
}

/// Events written in the records' transactions, waiting to be relayed to the bus.
public protocol EventOutbox: Sendable {
    /// Outbox events not yet relayed, oldest first.
    func pendingEvents(limit: Int) async throws -> [OutboxEntry]
    func markRelayed(_ sequence: [Int64]) async throws
}

/// What background upkeep needs: expiry, embedding repair and reindex, service-wide values.
public protocol StorageUpkeep: Sendable {
    /// Deletes up to `limit` records whose `expiresAt` has passed (in any namespace), with `deleted` events.
    func deleteExpired(before now: Date, limit: Int) async throws -> [Memory]

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
