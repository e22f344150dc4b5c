import Foundation

/// The JSON Lines backup of a namespace (`soma export`, `GET /v1/export`), version 2: a header line
/// `{"soma_export": {...}}`, then one line per memory (the API's memory object: coordinate,
/// payload, type, importance, expires_at, created_at, updated_at, version, embedding_model), then
/// one line per link `{"link": {"from", "to", "type", "weight", "created_at"}}`. An import of a file
/// with the header restores each memory as it was (times and version kept); lines without one (a
/// version 1 export, the original service's export) are stored as new memories.
public enum ExportFormat {
    public static let version = 2

    public struct Header: Codable, Sendable, Equatable {
        public var version: Int
        public var namespace: String
        public var exportedAt: Date

        enum CodingKeys: String, CodingKey {
            case version, namespace
            case exportedAt = "exported_at"
        }
    }

    struct HeaderLine: Codable {
        var somaExport: Header
        enum CodingKeys: String, CodingKey { case somaExport = "soma_export" }
    }

    struct LinkLine: Codable { var link: Link }

    /// One line of a backup, as read.
    enum Line {
        case header(Header)
        case memory(ImportRecord)
        case original(JSONValue)
        case link(Link)
    }

    static func encode(_ header: Header) throws -> [UInt8] {
        try line(HeaderLine(somaExport: header))
    }

    static func encode(_ memory: Memory, vector: [Float]? = nil) throws -> [UInt8] { try line(MemoryLine(memory: memory, vector: vector)) }

    /// A memory's line: the memory object, and its vector when the backup carries vectors.
    struct MemoryLine: Encodable {
        let memory: Memory
        let vector: [Float]?

        enum Key: String, CodingKey { case vector }

        func encode(to encoder: any Encoder) throws {
            try memory.encode(to: encoder)
            guard let vector else { return }
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(vector, forKey: .vector)
        }
    }
    static func encode(_ link: Link) throws -> [UInt8] { try line(LinkLine(link: link)) }

    private static func line(_ value: some Encodable) throws -> [UInt8] {
        Array(try SomaJSON.encoder(sortedKeys: true).encode(value)) + [UInt8(ascii: "\n")]
    }

    /// What a line is, by its shape.
    static func read(_ line: String, decoder: JSONDecoder) throws -> Line {
        let data = Data(line.utf8)
        guard let value = try? JSONReader.value(Array(line.utf8)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "malformed JSON"))
        }
        if value["soma_export"] != nil { return .header(try decoder.decode(HeaderLine.self, from: data).somaExport) }
        if value["link"] != nil { return .link(try decoder.decode(LinkLine.self, from: data).link) }
        if let original = MemoryEngine.originalExportLine(value) { return .original(original) }
        return .memory(try decoder.decode(ImportRecord.self, from: data))
    }
}
