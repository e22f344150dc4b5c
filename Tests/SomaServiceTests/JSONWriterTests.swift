import Foundation
import SomaCore
import Testing
@testable import SomaService

/// The search and memory answers are written by hand for speed; they must be the bytes JSONEncoder writes.
@Suite struct JSONWriterTests {
    static func memory(_ coordinate: [Double], payload: JSONObject, expires: Date? = nil, model: String? = nil, importance: Double = 0.5) throws
        -> Memory
    {
        Memory(
            namespace: "ns/ü \"q\"", coordinate: try Coordinate(coordinate), type: .semantic, payload: payload, importance: importance,
            createdAt: Date(timeIntervalSince1970: 1_764_000_000.123456), updatedAt: Date(timeIntervalSince1970: 1_764_000_100),
            version: 3, expiresAt: expires, embeddingModel: model)
    }

    @Test func searchAnswerMatchesJSONEncoderByteForByte() throws {
        let awkward: JSONObject = [
            "text": "quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul-free \u{1F} emoji 🧠 accent é",
            "numbers": [0, -1, 42, 1.5, -0.25, 1e-7, 123456789.125, 1e21, 3.0],
            "nested": ["deep": ["list": [true, false, .null, "x"]], "empty": [:], "none": []],
            "big": .int(Int64.max), "small": .int(Int64.min),
            "Zeta": "capital keys sort first", "a": "",
        ]
        let hits = [
            ScoredMemory(
                memory: try Self.memory(
                    [1, 2.5, -3], payload: awkward, expires: Date(timeIntervalSince1970: 1_800_000_000.5), model: "text-embedding@384"), score: 0.875),
            ScoredMemory(memory: try Self.memory([0], payload: [:], importance: 7), score: 1),
            ScoredMemory(memory: try Self.memory([1e-3, 1e6], payload: ["text": "plain"]), score: -0.0001220703125),
        ]
        let views = hits.map(ScoredView.init)
        let written = ScoredView.results(views)
        let encoded = Array(try JSONResponse.encoder.encode(["results": views]))
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: encoded, as: UTF8.self))
        #expect(ScoredView.results([]) == Array(try JSONResponse.encoder.encode(["results": [ScoredView]()])))
        for view in views.map(\.memory) {
            #expect(String(decoding: view.json, as: UTF8.self) == String(decoding: try JSONResponse.encoder.encode(view), as: UTF8.self))
        }
    }

    @Test func nonFiniteNumbersAreNullNotInvalidJSON() throws {
        var writer = JSONWriter()
        writer.value(.array([.double(.infinity), .double(.nan), .double(2)]))
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "[null,null,2]")
    }
}
