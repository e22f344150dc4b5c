import Foundation
import PostgresNIO
import SomaCore

/// How records map to rows. Times are whole microseconds since 1970 (`bigint`), so a record reads
/// back exactly as it was written; the store rounds them before writing.
enum PostgresRecords {
    static let columns = "id, namespace, coordinate, type, payload::text, importance, created_us, updated_us, version, expires_us, embedding_model"

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
    static func rounded(_ date: Date) -> Date { self.date(micros(date)) }

    static func rounded(_ memory: Memory) -> Memory {
        var memory = memory
        memory.createdAt = rounded(memory.createdAt)
        memory.updatedAt = rounded(memory.updatedAt)
        memory.expiresAt = memory.expiresAt.map(rounded)
        return memory
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private static let decoder = JSONDecoder()

    static func json(_ payload: JSONObject) throws -> String {
        let text = String(decoding: try encoder.encode(payload), as: UTF8.self)
        // jsonb cannot hold U+0000; refuse it as bad input rather than fail as a database error.
        guard !text.contains("\\u0000") else { throw EngineError.invalid("payload strings must not contain the NUL character (U+0000)") }
        return text
    }

    static func event(_ kind: MemoryEvent.Kind, _ memory: Memory, at now: Date) -> String {
        String(decoding: MemoryEvent(kind, of: memory, at: now).json, as: UTF8.self)
    }

    static func decodeEvent(_ text: String) throws -> MemoryEvent {
        try MemoryEvent(json: Array(text.utf8))
    }

    static func memories(_ rows: PostgresRowSequence) async throws -> [Memory] {
        var found: [Memory] = []
        for try await row in rows {
            found.append(try memory(row))
        }
        return found
    }

    static func memory(_ row: PostgresRow) throws -> Memory {
        let (id, namespace, coordinate, type, payload, importance, created, updated, version, expires, model) =
            try row.decode((UUID, String, [Double], String, String, Double, Int64, Int64, Int, Int64?, String?).self)
        return Memory(
            id: id, namespace: namespace, coordinate: try Coordinate(coordinate, maxDimensions: .max),
            type: MemoryType(rawValue: type) ?? .episodic, payload: try decoder.decode(JSONObject.self, from: Data(payload.utf8)),
            importance: importance, createdAt: date(created), updatedAt: date(updated), version: version,
            expiresAt: expires.map(date), embeddingModel: model)
    }
}
