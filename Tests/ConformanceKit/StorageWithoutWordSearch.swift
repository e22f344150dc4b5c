import Foundation
import SomaCore

/// A storage that declares no word search of its own and no transaction domain, as a backend
/// written for one purpose might: every call goes to `base`, and the engine must use its declared
/// fallbacks (`ScannedWordSearch`, vectors written after the record).
public struct StorageWithoutWordSearch: MemoryStorage {
    let base: any MemoryStorage

    public init(_ base: any MemoryStorage) {
        self.base = base
    }

    public func upsert(_ drafts: [MemoryDraft], at now: Date) async throws -> [Memory] { try await base.upsert(drafts, at: now) }
    public func get(namespace: String, coordinate: Coordinate) async throws -> Memory? {
        try await base.get(namespace: namespace, coordinate: coordinate)
    }
    public func get(namespace: String, ids: [UUID]) async throws -> [Memory] { try await base.get(namespace: namespace, ids: ids) }
    public func delete(namespace: String, coordinates: [Coordinate], at now: Date) async throws -> [Memory] {
        try await base.delete(namespace: namespace, coordinates: coordinates, at: now)
    }
    public func list(namespace: String, type: MemoryType?, after cursor: String?, limit: Int) async throws -> MemoryPage {
        try await base.list(namespace: namespace, type: type, after: cursor, limit: limit)
    }
    public func range(namespace: String, min: Coordinate, max: Coordinate, type: MemoryType?, limit: Int) async throws -> [Memory] {
        try await base.range(namespace: namespace, min: min, max: max, type: type, limit: limit)
    }
    public func keywordSearch(namespace: String, query: KeywordQuery, type: MemoryType?, limit: Int) async throws -> [Memory] {
        try await base.keywordSearch(namespace: namespace, query: query, type: type, limit: limit)
    }
    public func counts(namespace: String) async throws -> MemoryCounts { try await base.counts(namespace: namespace) }
    public func isHealthy() async -> Bool { await base.isHealthy() }
    public func addLink(namespace: String, link: Link) async throws { try await base.addLink(namespace: namespace, link: link) }
    public func links(namespace: String, from: Coordinate, type: String?, limit: Int) async throws -> [Link] {
        try await base.links(namespace: namespace, from: from, type: type, limit: limit)
    }
    public func links(namespace: String, to: Coordinate, type: String?, limit: Int) async throws -> [Link] {
        try await base.links(namespace: namespace, to: to, type: type, limit: limit)
    }
    public func pendingEvents(limit: Int) async throws -> [OutboxEntry] { try await base.pendingEvents(limit: limit) }
    public func markRelayed(_ sequence: [Int64]) async throws { try await base.markRelayed(sequence) }
    public func deleteExpired(before now: Date, limit: Int) async throws -> [Memory] { try await base.deleteExpired(before: now, limit: limit) }
    public func memoriesToEmbed(notEmbeddedWith model: String?, after cursor: UUID?, limit: Int) async throws -> [Memory] {
        try await base.memoriesToEmbed(notEmbeddedWith: model, after: cursor, limit: limit)
    }
    public func recordEmbedding(_ versions: [RecordVersion], model: String?) async throws { try await base.recordEmbedding(versions, model: model) }
    public func serviceValue(_ key: String) async throws -> String? { try await base.serviceValue(key) }
    public func setServiceValues(_ values: [String: String?]) async throws { try await base.setServiceValues(values) }
}
