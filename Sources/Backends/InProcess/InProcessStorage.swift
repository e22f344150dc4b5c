import Foundation
import SomaCore
import Synchronization

/// Memories, links and the outbox in process memory: for tests and development. Gone on exit.
public final class InProcessStorage: MemoryStorage, WordSearching {
    public var wordSearching: (any WordSearching)? { self }

    private struct LinkKey: Hashable {
        var to: Coordinate
        var type: String
    }

    private struct State {
        var records: [String: [UUID: Memory]] = [:]
        var links: [String: [Coordinate: [LinkKey: Link]]] = [:]
        var counts: [String: MemoryCounts] = [:]
        var words: [String: WordIndex] = [:]
        var outbox: [OutboxEntry] = []
        var nextSequence: Int64 = 1
        var serviceValues: [String: String] = [:]

        mutating func record(_ kind: MemoryEvent.Kind, _ memory: Memory, at now: Date) {
            outbox.append(OutboxEntry(sequence: nextSequence, event: MemoryEvent(kind, of: memory, at: now)))
            nextSequence += 1
        }

        mutating func remove(_ id: UUID, namespace: String, at now: Date) -> Memory? {
            guard let memory = records[namespace]?.removeValue(forKey: id) else { return nil }
            words[namespace]?.remove(id)
            counts[namespace, default: MemoryCounts()].add(memory.type, -1)
            if var graph = links[namespace] {
                graph[memory.coordinate] = nil
                for (from, outgoing) in graph {
                    graph[from] = outgoing.filter { $0.key.to != memory.coordinate }
                }
                links[namespace] = graph
            }
            record(.deleted, memory, at: now)
            return memory
        }
    }

    private let state = Mutex(State())

    public init() {}

    public func upsert(_ drafts: [MemoryDraft], at now: Date) async throws -> [Memory] {
        state.withLock { state in
            drafts.map { draft in
                let existing = state.records[draft.namespace]?[draft.id]
                let memory = draft.record(replacing: existing, at: now)
                state.records[draft.namespace, default: [:]][memory.id] = memory
                state.words[draft.namespace, default: WordIndex()].set(memory.id, DocumentWords(memory.payload))
                if let existing { state.counts[draft.namespace, default: MemoryCounts()].add(existing.type, -1) }
                state.counts[draft.namespace, default: MemoryCounts()].add(memory.type, 1)
                state.record(existing == nil ? .created : .updated, memory, at: now)
                return memory
            }
        }
    }

    public func get(namespace: String, coordinate: Coordinate) async throws -> Memory? {
        state.withLock { $0.records[namespace]?[MemoryID.make(namespace: namespace, coordinate: coordinate)] }
    }

    public func get(namespace: String, ids: [UUID]) async throws -> [Memory] {
        state.withLock { state in ids.compactMap { state.records[namespace]?[$0] } }
    }

    public func delete(namespace: String, coordinates: [Coordinate], at now: Date) async throws -> [Memory] {
        state.withLock { state in
            coordinates.compactMap { state.remove(MemoryID.make(namespace: namespace, coordinate: $0), namespace: namespace, at: now) }
        }
    }

    public func list(namespace: String, type: MemoryType?, after cursor: String?, limit: Int) async throws -> MemoryPage {
        let after = try cursor.map(Self.decodeCursor)
        let sorted = state.withLock { state in
            (state.records[namespace]?.values.map { $0 } ?? [])
                .filter { type == nil || $0.type == type }
                .sorted { $0.id.uuidString < $1.id.uuidString }
        }
        let remaining = after.map { after in sorted.filter { $0.id.uuidString > after } } ?? sorted
        let page = Array(remaining.prefix(limit))
        let next = remaining.count > limit ? page.last?.id.uuidString.lowercased() : nil
        return MemoryPage(memories: page, nextCursor: next)
    }

    public func range(namespace: String, min lower: Coordinate, max upper: Coordinate, type: MemoryType?, limit: Int) async throws -> [Memory] {
        state.withLock { state in
            let inside = (state.records[namespace]?.values.map { $0 } ?? []).filter {
                (type == nil || $0.type == type) && $0.coordinate.isInside(min: lower, max: upper)
            }
            return Array(inside.sorted { $0.coordinate.canonical < $1.coordinate.canonical }.prefix(limit))
        }
    }

    public func wordSearch(namespace: String, query: WordQuery, scoring: BM25, type: MemoryType?, limit: Int) async throws -> WordMatches {
        state.withLock { state in
            (state.words[namespace] ?? WordIndex()).matches(query, scoring: scoring, type: type, limit: limit, in: state.records[namespace] ?? [:])
        }
    }

    public func keywordSearch(namespace: String, query: KeywordQuery, type: MemoryType?, limit: Int) async throws -> [Memory] {
        state.withLock { state in
            query.rank((state.records[namespace]?.values ?? [:].values).filter { type == nil || $0.type == type }, limit: limit)
        }
    }

    public func addLink(namespace: String, link: Link) async throws {
        state.withLock { state in
            state.links[namespace, default: [:]][link.from, default: [:]][LinkKey(to: link.to, type: link.type)] = link
            if let source = state.records[namespace]?[MemoryID.make(namespace: namespace, coordinate: link.from)] {
                state.record(.linked, source, at: link.createdAt)
            }
        }
    }

    public func links(namespace: String, from: Coordinate, type: String?, limit: Int) async throws -> [Link] {
        state.withLock { state in
            let all = state.links[namespace]?[from]?.values.map { $0 } ?? []
            return Array(
                all.filter { type == nil || $0.type == type }
                    .sorted { ($0.weight, $0.to.canonical, $0.type) < ($1.weight, $1.to.canonical, $1.type) }
                    .prefix(limit))
        }
    }

    /// A scan of the namespace's links: this backend keeps them by source only.
    public func links(namespace: String, to: Coordinate, type: String?, limit: Int) async throws -> [Link] {
        state.withLock { state in
            let all = (state.links[namespace]?.values.flatMap(\.values) ?? []).filter { $0.to == to && (type == nil || $0.type == type) }
            return Array(all.sorted { ($0.weight, $0.from.canonical, $0.type) < ($1.weight, $1.from.canonical, $1.type) }.prefix(limit))
        }
    }

    public func counts(namespace: String) async throws -> MemoryCounts {
        state.withLock { $0.counts[namespace] ?? MemoryCounts() }
    }

    public func deleteExpired(before now: Date, limit: Int) async throws -> [Memory] {
        state.withLock { state in
            var expired: [Memory] = []
            for (namespace, records) in state.records {
                for memory in records.values where memory.isExpired(at: now) && expired.count < limit {
                    if let removed = state.remove(memory.id, namespace: namespace, at: now) { expired.append(removed) }
                }
            }
            return expired
        }
    }

    public func pendingEvents(limit: Int) async throws -> [OutboxEntry] {
        state.withLock { Array($0.outbox.prefix(limit)) }
    }

    public func markRelayed(_ sequence: [Int64]) async throws {
        let done = Set(sequence)
        state.withLock { $0.outbox.removeAll { done.contains($0.sequence) } }
    }

    public func isHealthy() async -> Bool { true }

    public func memoriesToEmbed(notEmbeddedWith model: String?, after cursor: UUID?, limit: Int) async throws -> [Memory] {
        let after = cursor.map(SortKey.of) ?? ""
        return state.withLock { state in
            state.records.values.flatMap(\.values)
                .filter { $0.embeddingModel == nil || (model != nil && $0.embeddingModel != model) }
                .filter { SortKey.of($0.id) > after }
                .sorted { SortKey.of($0.id) < SortKey.of($1.id) }
                .prefix(limit).map { $0 }
        }
    }

    public func recordEmbedding(_ versions: [RecordVersion], model: String?) async throws {
        state.withLock { state in
            for version in versions {
                for namespace in state.records.keys where state.records[namespace]?[version.id]?.version == version.version {
                    state.records[namespace]?[version.id]?.embeddingModel = model
                }
            }
        }
    }

    public func serviceValue(_ key: String) async throws -> String? {
        state.withLock { $0.serviceValues[key] }
    }

    public func setServiceValues(_ values: [String: String?]) async throws {
        state.withLock { state in
            for (key, value) in values { state.serviceValues[key] = value }
        }
    }

    /// Ids compare as the lower-case text the durable backends sort by.
    private enum SortKey {
        static func of(_ id: UUID) -> String { id.uuidString.lowercased() }
    }

    static func decodeCursor(_ cursor: String) throws -> String {
        guard let id = UUID(uuidString: cursor) else { throw EngineError.invalid("invalid cursor") }
        return id.uuidString
    }
}
