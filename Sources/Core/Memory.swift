import Foundation

/// One stored memory: the canonical record kept by `MemoryStorage`.
public struct Memory: Sendable, Equatable, Codable {
    public var id: UUID
    public var namespace: String
    public var coordinate: Coordinate
    public var type: MemoryType
    public var payload: JSONObject
    public var importance: Double
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int
    public var expiresAt: Date?
    public var embeddingModel: String?

    public init(
        namespace: String, coordinate: Coordinate, type: MemoryType, payload: JSONObject,
        importance: Double = Importance.defaultRaw, createdAt: Date, updatedAt: Date, version: Int,
        expiresAt: Date? = nil, embeddingModel: String? = nil
    ) {
        self.init(
            id: MemoryID.make(namespace: namespace, coordinate: coordinate), namespace: namespace, coordinate: coordinate, type: type,
            payload: payload, importance: importance, createdAt: createdAt, updatedAt: updatedAt, version: version, expiresAt: expiresAt,
            embeddingModel: embeddingModel)
    }

    /// A record as a storage read it back, under the id it was stored by (which cursors walk by; a
    /// record written under other id rules keeps its own). Deriving the id again from the namespace
    /// and coordinate cost 2% of a hybrid recall's CPU.
    public init(
        id: UUID, namespace: String, coordinate: Coordinate, type: MemoryType, payload: JSONObject, importance: Double, createdAt: Date,
        updatedAt: Date, version: Int, expiresAt: Date?, embeddingModel: String?
    ) {
        self.id = id
        self.namespace = namespace
        self.coordinate = coordinate
        self.type = type
        self.payload = payload
        self.importance = importance
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
        self.expiresAt = expiresAt
        self.embeddingModel = embeddingModel
    }

    public var importanceNormalised: Double { Importance.normalised(importance) }

    public func isExpired(at now: Date) -> Bool {
        expiresAt.map { $0 <= now } ?? false
    }

    enum CodingKeys: String, CodingKey {
        case id, namespace, coordinate, type, payload, importance, version
        case createdAt = "created_at", updatedAt = "updated_at", expiresAt = "expires_at"
        case embeddingModel = "embedding_model"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        namespace = try container.decode(String.self, forKey: .namespace)
        let values = try container.decode([Double].self, forKey: .coordinate)
        do {
            coordinate = try Coordinate(values)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .coordinate, in: container, debugDescription: error.description)
        }
        id = MemoryID.make(namespace: namespace, coordinate: coordinate)
        type = try container.decode(MemoryType.self, forKey: .type)
        payload = try container.decode(JSONObject.self, forKey: .payload)
        importance = try container.decodeIfPresent(Double.self, forKey: .importance) ?? Importance.defaultRaw
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        updatedAt = try container.decode(Date.self, forKey: .updatedAt)
        version = try container.decode(Int.self, forKey: .version)
        expiresAt = try container.decodeIfPresent(Date.self, forKey: .expiresAt)
        embeddingModel = try container.decodeIfPresent(String.self, forKey: .embeddingModel)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(coordinate.values, forKey: .coordinate)
        try container.encode(type, forKey: .type)
        try container.encode(payload, forKey: .payload)
        try container.encode(importance, forKey: .importance)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(version, forKey: .version)
        try container.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try container.encodeIfPresent(embeddingModel, forKey: .embeddingModel)
    }
}

/// What a caller asks to store; storage assigns id, timestamps and version (unless the draft
/// restores a record from a backup, which carries its own).
public struct MemoryDraft: Sendable, Equatable {
    public var namespace: String
    public var coordinate: Coordinate
    public var type: MemoryType
    public var payload: JSONObject
    public var importance: Double
    public var expiresAt: Date?
    public var embeddingModel: String?
    /// A record restored as it was (an import of this service's export, a migration that keeps the
    /// original's times): these stamps instead of the storage's own.
    public var restored: RestoredStamps?

    public init(
        namespace: String, coordinate: Coordinate, type: MemoryType = .episodic, payload: JSONObject,
        importance: Double = Importance.defaultRaw, expiresAt: Date? = nil, embeddingModel: String? = nil
    ) {
        self.namespace = namespace
        self.coordinate = coordinate
        self.type = type
        self.payload = payload
        self.importance = importance
        self.expiresAt = expiresAt
        self.embeddingModel = embeddingModel
    }

    public var id: UUID { MemoryID.make(namespace: namespace, coordinate: coordinate) }

    /// The record this draft becomes, given the record it replaces (if any).
    /// Strictly after the previous update even if the clock stepped back: caches order records by it.
    static func updateTime(after existing: Memory?, at now: Date) -> Date {
        guard let existing else { return now }
        return max(now, existing.updatedAt.addingTimeInterval(0.000_001))
    }

    public func record(replacing existing: Memory?, at now: Date) -> Memory {
        Memory(
            namespace: namespace, coordinate: coordinate, type: type, payload: payload, importance: importance,
            createdAt: restored?.createdAt ?? existing?.createdAt ?? now, updatedAt: restored?.updatedAt ?? Self.updateTime(after: existing, at: now),
            version: restored?.version ?? (existing?.version ?? 0) + 1, expiresAt: expiresAt, embeddingModel: embeddingModel)
    }
}

/// A record's own times and version, kept when it is restored.
public struct RestoredStamps: Sendable, Equatable {
    public var createdAt: Date
    public var updatedAt: Date
    /// nil: the storage's next version (a migration keeps the times, not a version it never had).
    public var version: Int?

    public init(createdAt: Date, updatedAt: Date, version: Int? = nil) {
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// Totals for /stats, kept by storage as counters rather than computed by a scan.
public struct MemoryCounts: Sendable, Equatable, Codable {
    public var episodic: Int
    public var semantic: Int
    public var total: Int { episodic + semantic }

    public init(episodic: Int = 0, semantic: Int = 0) {
        self.episodic = episodic
        self.semantic = semantic
    }

    public mutating func add(_ type: MemoryType, _ delta: Int) {
        switch type {
        case .episodic: episodic += delta
        case .semantic: semantic += delta
        }
    }
}

/// One page of a listing; `nextCursor` is nil on the last page.
public struct MemoryPage: Sendable {
    public var memories: [Memory]
    public var nextCursor: String?

    public init(memories: [Memory], nextCursor: String?) {
        self.memories = memories
        self.nextCursor = nextCursor
    }
}

extension Memory {
    /// Whether storing `draft` would change nothing this memory holds (its content, type and importance).
    public func holds(_ draft: MemoryDraft) -> Bool {
        payload == draft.payload && type == draft.type && importance == draft.importance
    }
}
