import Foundation

/// One change to a memory, as written to the outbox and carried by the event bus.
/// Keyed by the memory id, so all events of one memory stay in order on a partitioned bus.
public struct MemoryEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case created, updated, deleted, linked
    }

    public static let schemaVersion = 1

    public var eventID: UUID
    public var kind: Kind
    public var id: UUID
    public var namespace: String
    public var coordinate: [Double]
    public var type: MemoryType
    public var timestamp: Date
    public var version: Int
    public var payload: JSONObject
    /// The memory's importance as stored (absent from events written before it was added).
    public var importance: Double?
    /// The embedding model the memory was indexed with, so a consumer never mixes two models.
    public var embeddingModel: String?
    /// Set on events the original service's producer wrote: the memory to store here before
    /// indexing, since only the original's store holds it. Never written to a bus.
    public var originalDraft: MemoryDraft? = nil

    public init(
        eventID: UUID = UUID(), kind: Kind, id: UUID, namespace: String, coordinate: [Double], type: MemoryType,
        timestamp: Date, version: Int, payload: JSONObject, importance: Double? = nil, embeddingModel: String? = nil
    ) {
        self.eventID = eventID
        self.kind = kind
        self.id = id
        self.namespace = namespace
        self.coordinate = coordinate
        self.type = type
        self.timestamp = timestamp
        self.version = version
        self.payload = payload
        self.importance = importance
        self.embeddingModel = embeddingModel
    }

    /// The event recording that `memory` was written or deleted.
    public init(_ kind: Kind, of memory: Memory, at timestamp: Date) {
        self.init(
            kind: kind, id: memory.id, namespace: memory.namespace, coordinate: memory.coordinate.values,
            type: memory.type, timestamp: timestamp, version: memory.version, payload: memory.payload,
            importance: memory.importance, embeddingModel: memory.embeddingModel)
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", kind = "event", id, namespace, coordinate, type, timestamp, version, payload, importance
        case embeddingModel = "embedding_model"
    }
}
