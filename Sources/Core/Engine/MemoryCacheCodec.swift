import Foundation

/// Cached records: the JSON `Memory`'s Codable conformance writes with a plain JSONEncoder (times as
/// seconds since 2001), so entries written by earlier versions still read, but written and read
/// without Codable: decoding one took about 25 µs, most of a cached recall's cost.
enum MemoryCacheCodec {
    static func encode(_ memory: Memory) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.raw("{")
        writer.key("id", first: true)
        writer.string(memory.id.text(lowercase: false))
        writer.key("namespace")
        writer.string(memory.namespace)
        writer.key("coordinate")
        writer.value(.array(memory.coordinate.values.map(JSONValue.double)))
        writer.key("type")
        writer.string(memory.type.rawValue)
        writer.key("payload")
        writer.object(memory.payload)
        writer.key("importance")
        writer.number(memory.importance)
        writer.key("created_at")
        writer.number(memory.createdAt.timeIntervalSinceReferenceDate)
        writer.key("updated_at")
        writer.number(memory.updatedAt.timeIntervalSinceReferenceDate)
        writer.key("version")
        writer.number(memory.version)
        if let expiresAt = memory.expiresAt {
            writer.key("expires_at")
            writer.number(expiresAt.timeIntervalSinceReferenceDate)
        }
        if let model = memory.embeddingModel {
            writer.key("embedding_model")
            writer.string(model)
        }
        writer.raw("}")
        return writer.bytes
    }

    /// The record, or nil when the bytes are not a record this codec (or Codable) wrote.
    static func decode(_ bytes: [UInt8]) -> Memory? {
        guard case .object(let fields)? = try? JSONReader.value(bytes),
            case .string(let namespace)? = fields["namespace"],
            case .array(let numbers)? = fields["coordinate"],
            case .string(let typeName)? = fields["type"], let type = MemoryType(rawValue: typeName),
            case .object(let payload)? = fields["payload"],
            let created = fields["created_at"]?.doubleValue, let updated = fields["updated_at"]?.doubleValue,
            case .int(let version)? = fields["version"]
        else { return nil }
        let values = numbers.compactMap(\.doubleValue)
        guard values.count == numbers.count, let coordinate = try? Coordinate(values) else { return nil }
        var embeddingModel: String?
        if case .string(let model)? = fields["embedding_model"] { embeddingModel = model }
        return Memory(
            namespace: namespace, coordinate: coordinate, type: type, payload: payload,
            importance: fields["importance"]?.doubleValue ?? Importance.defaultRaw,
            createdAt: Date(timeIntervalSinceReferenceDate: created), updatedAt: Date(timeIntervalSinceReferenceDate: updated),
            version: Int(version), expiresAt: fields["expires_at"]?.doubleValue.map(Date.init(timeIntervalSinceReferenceDate:)),
            embeddingModel: embeddingModel)
    }
}
