import Foundation
import SomaCore

/// A memory as the v1 API shows it.
struct MemoryView: Encodable, Sendable {
    let id: UUID
    let namespace: String
    let coord: String
    let coordinate: [Double]
    let type: MemoryType
    let payload: JSONObject
    let importance: Double
    let importanceNormalized: Double
    let createdAt: Date
    let updatedAt: Date
    let version: Int
    let expiresAt: Date?
    let embeddingModel: String?

    init(_ memory: Memory) {
        id = memory.id
        namespace = memory.namespace
        coord = memory.coordinate.canonical
        coordinate = memory.coordinate.values
        type = memory.type
        payload = memory.payload
        importance = memory.importance
        importanceNormalized = memory.importanceNormalised
        createdAt = memory.createdAt
        updatedAt = memory.updatedAt
        version = memory.version
        expiresAt = memory.expiresAt
        embeddingModel = memory.embeddingModel
    }

    enum CodingKeys: String, CodingKey {
        case id, namespace, coord, coordinate, type, payload, importance, version
        case importanceNormalized = "importance_normalized", createdAt = "created_at", updatedAt = "updated_at"
        case expiresAt = "expires_at", embeddingModel = "embedding_model"
    }
}

struct ScoredView: Encodable, Sendable {
    let coord: String
    let score: Double
    let memory: MemoryView

    init(_ hit: ScoredMemory) {
        coord = hit.memory.coordinate.canonical
        score = hit.score
        memory = MemoryView(hit.memory)
    }
}

struct LinkView: Encodable, Sendable {
    let from: String
    let to: String
    let type: String
    let weight: Double
    let createdAt: Date

    init(_ link: Link) {
        from = link.from.canonical
        to = link.to.canonical
        type = link.type
        weight = link.weight
        createdAt = link.createdAt
    }

    enum CodingKeys: String, CodingKey {
        case from, to, type, weight
        case createdAt = "created_at"
    }
}

/// The original service returned payloads with `memory_type`, `coordinate` and `timestamp` added.
enum LegacyPayload {
    static func of(_ memory: Memory) -> JSONObject {
        var payload = memory.payload
        payload["memory_type"] = .string(memory.type.rawValue)
        payload["coordinate"] = .array(memory.coordinate.values.map { .double($0) })
        payload["timestamp"] = .double(memory.updatedAt.timeIntervalSince1970)
        return payload
    }
}
