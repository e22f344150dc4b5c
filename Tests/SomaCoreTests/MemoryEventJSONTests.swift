import Foundation
import Testing
import SomaCore

/// Events are written and read without Codable; the bytes and the values must be what the Codable
/// conformance with `SomaJSON` gives, since outbox rows, Kafka and Redis messages written by either
/// are read by the other.
@Suite struct MemoryEventJSONTests {
    static let events = [
        MemoryEvent(
            eventID: UUID(), kind: .created, id: UUID(), namespace: "ns/with \"quotes\" é", coordinate: [1, -2.5, 0.1, 1e21],
            type: .semantic, timestamp: Date(timeIntervalSince1970: 1_764_000_000.123), version: 7,
            payload: ["text": "a/b", "n": 3, "x": 2.5, "list": [1, "two", nil, ["k": false]], "empty": [:]],
            importance: 0.875, embeddingModel: "text-embedding-3-small@1536"),
        MemoryEvent(
            eventID: UUID(), kind: .deleted, id: UUID(), namespace: "ns", coordinate: [3],
            type: .episodic, timestamp: Date(timeIntervalSince1970: 1_700_000_000), version: 1, payload: [:]),
        MemoryEvent(
            eventID: UUID(), kind: .linked, id: UUID(), namespace: "n", coordinate: [0, 0],
            type: .episodic, timestamp: Date(timeIntervalSince1970: 0.5), version: 9_000_000_000, payload: ["k": "v"], importance: 0),
    ]

    @Test(arguments: events)
    func writesTheBytesJSONEncoderWrites(_ event: MemoryEvent) throws {
        let encoded = try SomaJSON.encoder().encode(event)
        #expect(event.json == Array(encoded), "\(String(decoding: event.json, as: UTF8.self))\n\(String(decoding: encoded, as: UTF8.self))")
    }

    @Test(arguments: events)
    func readsWhatJSONDecoderReads(_ event: MemoryEvent) throws {
        let decoded = try SomaJSON.decoder().decode(MemoryEvent.self, from: Data(event.json))
        #expect(try MemoryEvent(json: event.json) == decoded)
        // Times travel as RFC 3339 with milliseconds, so only the time may differ from the original.
        var sent = event
        sent.timestamp = decoded.timestamp
        #expect(decoded == sent && abs(decoded.timestamp.timeIntervalSince(event.timestamp)) < 0.001)
    }

    @Test func readsOlderAndLooserEvents() throws {
        let id = UUID()
        // Written before importance and the model were recorded; unknown fields, nulls, lower-case ids.
        let text =
            #"{"coordinate":[1,2],"event":"updated","event_id":"\#(id.uuidString.lowercased())","id":"\#(id.uuidString)","#
            + #""namespace":"ns","payload":{},"timestamp":"2025-11-24T16:00:00Z","type":"episodic","version":2,"importance":null,"later":true}"#
        let read = try MemoryEvent(json: Array(text.utf8))
        let decoded = try SomaJSON.decoder().decode(MemoryEvent.self, from: Data(text.utf8))
        #expect(read == decoded)
        #expect(read.eventID == id && read.importance == nil && read.embeddingModel == nil && read.coordinate == [1, 2])
    }

    @Test(arguments: [
        #"[]"#, #"{}"#, #"not json"#,
        #"{"coordinate":[1],"event":"exploded","event_id":"00000000-0000-0000-0000-000000000001","id":"00000000-0000-0000-0000-000000000001","namespace":"n","payload":{},"timestamp":"2025-11-24T16:00:00Z","type":"episodic","version":1}"#,
        #"{"coordinate":["1"],"event":"created","event_id":"00000000-0000-0000-0000-000000000001","id":"00000000-0000-0000-0000-000000000001","namespace":"n","payload":{},"timestamp":"2025-11-24T16:00:00Z","type":"episodic","version":1}"#,
        #"{"coordinate":[1],"event":"created","event_id":"nope","id":"00000000-0000-0000-0000-000000000001","namespace":"n","payload":{},"timestamp":"2025-11-24T16:00:00Z","type":"episodic","version":1}"#,
        #"{"coordinate":[1],"event":"created","event_id":"00000000-0000-0000-0000-000000000001","id":"00000000-0000-0000-0000-000000000001","namespace":"n","payload":{},"timestamp":"yesterday","type":"episodic","version":1}"#,
        #"{"coordinate":[1],"event":"created","event_id":"00000000-0000-0000-0000-000000000001","id":"00000000-0000-0000-0000-000000000001","namespace":"n","payload":[],"timestamp":"2025-11-24T16:00:00Z","type":"episodic","version":1}"#,
        #"{"coordinate":[1],"event":"created","event_id":"00000000-0000-0000-0000-000000000001","id":"00000000-0000-0000-0000-000000000001","namespace":"n","payload":{},"timestamp":"2025-11-24T16:00:00Z","type":"episodic","version":1.5}"#,
        #"{"coordinate":[1],"event":"created","event_id":"00000000-0000-0000-0000-000000000001","id":"00000000-0000-0000-0000-000000000001","namespace":"n","payload":{},"timestamp":"2025-11-24T16:00:00Z","type":"episodic","version":1,"importance":"high"}"#,
    ])
    func refusesWhatJSONDecoderRefuses(_ text: String) {
        #expect(throws: (any Error).self) { try MemoryEvent(json: Array(text.utf8)) }
        #expect((try? SomaJSON.decoder().decode(MemoryEvent.self, from: Data(text.utf8))) == nil, "JSONDecoder refuses it too")
    }
}
