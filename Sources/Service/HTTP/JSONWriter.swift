import Foundation
import SomaCore

/// Writes JSON straight into bytes for the answer recall sends (memories with their scores).
/// JSONEncoder's generic Codable path took a fifth of recall's CPU at 100,000 memories. The bytes
/// are the ones `JSONResponse.encoder` writes for the same views (sorted keys, RFC 3339 times,
/// UUIDs as it writes them, "/" escaped); tests compare the two.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "/"): raw("\\/")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// As JSONEncoder writes a Double: its shortest text, without a trailing ".0". JSON has no
    /// infinity or NaN (JSONEncoder throws on them): they are written as null.
    mutating func number(_ value: Double) {
        guard value.isFinite else { return raw("null") }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    mutating func number<Integer: BinaryInteger>(_ value: Integer) {
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .int(let integer): number(integer)
        case .double(let double): number(double)
        case .string(let text): string(text)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let fields): object(fields)
        }
    }

    mutating func object(_ fields: JSONObject) {
        bytes.append(UInt8(ascii: "{"))
        for (position, key) in fields.keys.sorted().enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            string(key)
            bytes.append(UInt8(ascii: ":"))
            value(fields[key]!)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// `"key":` after a comma unless it is the object's first.
    mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }
}

extension MemoryView {
    /// The same fields, in sorted key order, as the synthesized Encodable writes them.
    func write(to writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("coord", first: true)
        writer.string(coord)
        writer.key("coordinate")
        writer.raw("[")
        for (position, value) in coordinate.enumerated() {
            if position > 0 { writer.raw(",") }
            writer.number(value)
        }
        writer.raw("]")
        writer.key("created_at")
        writer.string(RFC3339.string(from: createdAt))
        if let embeddingModel {
            writer.key("embedding_model")
            writer.string(embeddingModel)
        }
        if let expiresAt {
            writer.key("expires_at")
            writer.string(RFC3339.string(from: expiresAt))
        }
        writer.key("id")
        writer.string(id.uuidString)
        writer.key("importance")
        writer.number(importance)
        writer.key("importance_normalized")
        writer.number(importanceNormalized)
        writer.key("namespace")
        writer.string(namespace)
        writer.key("payload")
        writer.object(payload)
        writer.key("type")
        writer.string(type.rawValue)
        writer.key("updated_at")
        writer.string(RFC3339.string(from: updatedAt))
        writer.key("version")
        writer.number(version)
        writer.raw("}")
    }
}

extension ScoredView {
    /// `{"results":[...]}`, the search answer.
    static func results(_ views: [ScoredView]) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + views.count * 512)
        writer.raw("{\"results\":[")
        for (position, view) in views.enumerated() {
            if position > 0 { writer.raw(",") }
            writer.raw("{")
            writer.key("coord", first: true)
            writer.string(view.coord)
            writer.key("memory")
            view.memory.write(to: &writer)
            writer.key("score")
            writer.number(view.score)
            writer.raw("}")
        }
        writer.raw("]}")
        return writer.bytes
    }
}
