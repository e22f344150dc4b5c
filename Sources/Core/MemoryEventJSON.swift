import Foundation

/// Events as JSON bytes: the shape `MemoryEvent`'s Codable conformance gives with
/// `SomaJSON.encoder()` (sorted keys, RFC 3339 times, UUIDs as `uuidString`), written and read
/// without Codable. Every write puts an event in the outbox, and the relay and the consumers read
/// each one back; through JSONEncoder and JSONDecoder that was about a tenth of a store's CPU.
extension MemoryEvent {
    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.raw("{")
        writer.key("coordinate", first: true)
        writer.value(.array(coordinate.map(JSONValue.double)))
        if let embeddingModel {
            writer.key("embedding_model")
            writer.string(embeddingModel)
        }
        writer.key("event")
        writer.string(kind.rawValue)
        writer.key("event_id")
        writer.string(eventID.uuidString)
        writer.key("id")
        writer.string(id.uuidString)
        if let importance {
            writer.key("importance")
            writer.number(importance)
        }
        writer.key("namespace")
        writer.string(namespace)
        writer.key("payload")
        writer.object(payload)
        writer.key("timestamp")
        writer.string(RFC3339.string(from: timestamp))
        writer.key("type")
        writer.string(type.rawValue)
        writer.key("version")
        writer.number(version)
        writer.raw("}")
        return writer.bytes
    }

    /// Reads an event as JSONDecoder would: unknown fields are ignored, `importance` and
    /// `embedding_model` may be absent or null; anything else missing or mistyped is refused.
    public init(json bytes: some Collection<UInt8>) throws {
        guard case .object(let fields) = try JSONReader.value(bytes) else { throw JSONReader.Malformed(description: "an event is a JSON object") }
        func field<T>(_ name: String, _ read: (JSONValue) -> T?) throws -> T {
            guard let value = fields[name].flatMap(read) else {
                throw JSONReader.Malformed(description: "event field '\(name)' is missing or invalid")
            }
            return value
        }
        func optional<T>(_ name: String, _ read: (JSONValue) -> T?) throws -> T? {
            guard let value = fields[name], value != .null else { return nil }
            return try field(name, read)
        }
        let coordinate = try field("coordinate") { value -> [Double]? in
            guard case .array(let items) = value else { return nil }
            let numbers = items.compactMap(\.doubleValue)
            return numbers.count == items.count ? numbers : nil
        }
        self.init(
            eventID: try field("event_id", Self.uuid), kind: try field("event") { Self.string($0).flatMap(Kind.init(rawValue:)) },
            id: try field("id", Self.uuid), namespace: try field("namespace", Self.string), coordinate: coordinate,
            type: try field("type") { Self.string($0).flatMap(MemoryType.init(rawValue:)) },
            timestamp: try field("timestamp") { Self.string($0).flatMap(RFC3339.date(from:)) },
            version: try field("version", Self.integer), payload: try field("payload") { if case .object(let payload) = $0 { payload } else { nil } },
            importance: try optional("importance", \.doubleValue), embeddingModel: try optional("embedding_model", Self.string))
    }

    private static func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { text } else { nil }
    }

    private static func uuid(_ value: JSONValue) -> UUID? {
        string(value).flatMap(UUID.init(uuidString:))
    }

    private static func integer(_ value: JSONValue) -> Int? {
        if case .int(let number) = value { Int(exactly: number) } else { nil }
    }
}
