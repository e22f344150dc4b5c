import Foundation
import Testing
@testable import SomaCore

/// JSONReader and JSONWriter stand in for JSONDecoder and JSONEncoder on hot paths; each is checked
/// against the Foundation coder it replaces.
@Suite struct JSONTextTests {
    static let documents = [
        #"{"a":1,"b":1.0,"c":1e2,"d":-0,"e":-0.0,"f":2.5,"g":1E+2,"h":0.1,"i":-12.75e-3}"#,
        #"{"big":9223372036854775807,"small":-9223372036854775808,"over":9223372036854775808,"huge":123456789012345678901234}"#,
        #"{"s":"quote \" backslash \\ slash \/ controls \b\f\n\r\t \u0007 \u001f","u":"\u00e9\u4e2d\ud83e\udde0","raw":"é中🧠"}"#,
        #" { "nested" : [ true , false , null , [ ] , { } , [ [ 1 ] ] , { "k" : { "k" : "v" } } ] } "#,
        #"[1,"two",3.5,null]"#,
        #""just a string""#,
        "0", "-1", "true", "null", "1.5e300",
    ]

    @Test(arguments: documents)
    func readsWhatJSONDecoderReads(_ text: String) throws {
        let expected = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let read = try JSONReader.value(text)
        #expect(read == expected, "\(text)")
        #expect(try JSONReader.value(Array(text.utf8)) == expected)
    }

    @Test(arguments: [
        "", "{", "}", "{\"a\"}", "{\"a\":}", "{a:1}", "01x", "1.", "1e", "-", "tru", "nul", "\"open",
        "\"bad \\x escape\"", "\"lone \\ud83e\"", "\"\u{01}\"", "1e400", "[1] 2",
    ])
    func refusesWhatIsNotJSON(_ text: String) throws {
        #expect(throws: JSONReader.Malformed.self) { try JSONReader.value(text) }
        #expect((try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) == nil, "JSONDecoder refuses \(text) too")
    }

    @Test func refusesTrailingCommasThatJSONDecoderLetsThrough() {
        #expect(throws: JSONReader.Malformed.self) { try JSONReader.value("[1,]") }
        #expect(throws: JSONReader.Malformed.self) { try JSONReader.value(#"{"a":1,}"#) }
    }

    @Test func refusesNestingPastTheLimit() {
        let deep = String(repeating: "[", count: JSONReader.maxDepth + 1) + String(repeating: "]", count: JSONReader.maxDepth + 1)
        #expect(throws: JSONReader.Malformed.self) { try JSONReader.value(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try JSONReader.value(fine) }
    }

    @Test(arguments: documents)
    func writesWhatJSONEncoderWrites(_ text: String) throws {
        let value = try JSONReader.value(text)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(JSONWriter.text(value) == String(decoding: try encoder.encode(value), as: UTF8.self))
        #expect(try JSONReader.value(JSONWriter.text(value)) == value, "round trip")
    }

    @Test func cachedRecordsRoundTripAndReadWhatCodableWrote() throws {
        let records = [
            Memory(
                namespace: "ns", coordinate: try Coordinate([1, -2.5, 1e-3]), type: .semantic,
                payload: ["text": "a \"quoted\" / line\n", "n": 3, "x": 0.1, "tags": ["a", .null, true]], importance: 4.25,
                createdAt: Date(timeIntervalSinceReferenceDate: 786_000_000.123456), updatedAt: Date(timeIntervalSinceReferenceDate: 786_000_001.5),
                version: 7, expiresAt: Date(timeIntervalSinceReferenceDate: 800_000_000.25), embeddingModel: "model@384"),
            Memory(
                namespace: "other/ns", coordinate: try Coordinate([0]), type: .episodic, payload: [:],
                createdAt: Date(timeIntervalSinceReferenceDate: 1), updatedAt: Date(timeIntervalSinceReferenceDate: 2), version: 1),
        ]
        for record in records {
            #expect(MemoryCacheCodec.decode(MemoryCacheCodec.encode(record)) == record)
            // Entries cached by earlier versions (Codable, a plain JSONEncoder) still read.
            #expect(MemoryCacheCodec.decode(Array(try JSONEncoder().encode(record))) == record)
            #expect(try JSONDecoder().decode(Memory.self, from: Data(MemoryCacheCodec.encode(record))) == record)
        }
        #expect(MemoryCacheCodec.decode(Array("{\"namespace\":\"ns\"}".utf8)) == nil)
        #expect(MemoryCacheCodec.decode(Array("not json".utf8)) == nil)
    }
}
