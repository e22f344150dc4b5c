import Foundation
import Testing
@testable import SomaService

@Suite struct V1RouteTests {
    @Test func createReadUpdateDelete() async throws {
        try await withApp { client in
            let created = try await client.call(
                .post, "/v1/memories", #"{"coord":"1, 2.5,-3","payload":{"text":"hello world"},"type":"semantic","importance":2}"#)
            #expect(created.status == .created)
            #expect(created["coord"] as? String == "1,2.5,-3")
            #expect(created["version"] as? Int == 1)
            #expect(created["type"] as? String == "semantic")
            #expect((created["importance_normalized"] as? Double).map { $0 > 0.5 && $0 < 1 } == true)
            let again = try await client.call(.post, "/v1/memories", #"{"coord":[1,2.5,-3],"payload":{"text":"hello again"}}"#)
            #expect(again.status == .ok && again["version"] as? Int == 2)
            let read = try await client.call(.get, "/v1/memories/1,2.5,-3")
            #expect(read.status == .ok && (read["payload"] as? [String: Any])?["text"] as? String == "hello again")
            #expect(try await client.call(.get, "/v1/memories/1%2C2.5%2C-3").status == .ok)
            let patched = try await client.call(.patch, "/v1/memories/1,2.5,-3", #"{"importance":9}"#)
            #expect(patched.status == .ok && patched["importance"] as? Double == 9 && patched["version"] as? Int == 3)
            #expect(try await client.call(.delete, "/v1/memories/1,2.5,-3").status == .ok)
            let gone = try await client.call(.get, "/v1/memories/1,2.5,-3")
            #expect(gone.status == .notFound && gone.isJSONError)
            #expect(try await client.call(.delete, "/v1/memories/1,2.5,-3").status == .notFound)
            #expect(try await client.call(.patch, "/v1/memories/7", #"{"importance":1}"#).status == .notFound)
        }
    }

    @Test func bulkListDeleteManyAndStats() async throws {
        try await withApp { client in
            let items = (1...12).map { #"{"coord":"\#($0),0","payload":{"i":\#($0)},"type":"\#($0 <= 4 ? "semantic" : "episodic")"}"# }
            let bulk = try await client.call(.post, "/v1/memories/bulk", #"{"items":[\#(items.joined(separator: ","))]}"#)
            #expect(bulk.status == .ok && bulk["stored"] as? Int == 12 && (bulk["memories"] as? [Any])?.count == 12)
            let stats = try await client.call(.get, "/v1/stats")
            #expect(stats["total"] as? Int == 12 && stats["semantic"] as? Int == 4 && stats["episodic"] as? Int == 8)
            let first = try await client.call(.get, "/v1/memories?limit=5")
            let cursor = try #require(first["next_cursor"] as? String)
            #expect((first["items"] as? [Any])?.count == 5)
            let second = try await client.call(.get, "/v1/memories?limit=10&cursor=\(cursor)")
            #expect((second["items"] as? [Any])?.count == 7 && second["next_cursor"] is NSNull)
            #expect((try await client.call(.get, "/v1/memories?type=semantic")["items"] as? [Any])?.count == 4)
            let deleted = try await client.call(.post, "/v1/memories/delete", #"{"coords":["1,0","2,0",[3,0],"99,0"]}"#)
            #expect(deleted["deleted"] as? Int == 3)
            #expect(try await client.call(.get, "/v1/stats")["total"] as? Int == 9)
        }
    }

    @Test func searchModesReturnScoresAndCoordinates() async throws {
        try await withApp { client in
            _ = try await client.call(
                .post, "/v1/memories/bulk",
                #"{"items":[{"coord":"1","payload":{"text":"the cat sat on the mat","project":"a"}},{"coord":"2","payload":{"text":"quarterly revenue report","project":"b"},"type":"semantic"},{"coord":"3","payload":{"text":"cat","project":"b"}}]}"#
            )
            for mode in ["vector", "keyword", "hybrid"] {
                let reply = try await client.call(.post, "/v1/memories/search", #"{"query":"cat","top_k":5,"mode":"\#(mode)"}"#)
                let results = try #require(reply["results"] as? [[String: Any]], "mode \(mode)")
                #expect(!results.isEmpty)
                #expect(results.allSatisfy { $0["score"] is Double && $0["coord"] is String && $0["memory"] is [String: Any] })
                #expect(results.first?["coord"] as? String == "3", "mode \(mode): the exact match ranks first")
            }
            let typed = try await client.call(.post, "/v1/memories/search", #"{"query":"cat","type":"semantic"}"#)
            #expect((typed["results"] as? [[String: Any]])?.map { $0["coord"] as? String } == ["2"])
            let filtered = try await client.call(.post, "/v1/memories/search", #"{"query":"cat","filters":{"project":"a"}}"#)
            #expect((filtered["results"] as? [[String: Any]])?.map { $0["coord"] as? String } == ["1"])
            let strict = try await client.call(.post, "/v1/memories/search", #"{"query":"cat","min_score":0.99}"#)
            #expect((strict["results"] as? [[String: Any]])?.allSatisfy { ($0["score"] as? Double ?? 0) >= 0.99 } == true)
            let withContext = try await client.call(.post, "/v1/memories/search", #"{"query":"cat mat","context":{"project":"b"}}"#)
            #expect((withContext["results"] as? [[String: Any]])?.first?["coord"] as? String == "3")
        }
    }

    @Test func rangeLinksNeighboursAndPath() async throws {
        try await withApp { client in
            for coord in ["0,0", "1,1", "2,2", "5,5"] {
                _ = try await client.call(.post, "/v1/memories", #"{"coord":"\#(coord)","payload":{}}"#)
            }
            let range = try await client.call(.get, "/v1/memories/range?min=0,0&max=2,2")
            #expect(Set((range["items"] as? [[String: Any]])?.compactMap { $0["coord"] as? String } ?? []) == ["0,0", "1,1", "2,2"])
            #expect(try await client.call(.post, "/v1/links", #"{"from":"0,0","to":"1,1","type":"next","weight":1}"#).status == .created)
            _ = try await client.call(.post, "/v1/links", #"{"from":"1,1","to":"2,2","type":"next","weight":1}"#)
            _ = try await client.call(.post, "/v1/links", #"{"from":"0,0","to":"2,2","type":"jump","weight":5}"#)
            let neighbors = try await client.call(.get, "/v1/links/neighbors?coord=0,0")
            #expect((neighbors["neighbors"] as? [[String: Any]])?.count == 2)
            let typed = try await client.call(.get, "/v1/links/neighbors?coord=0,0&type=jump&limit=5")
            #expect((typed["neighbors"] as? [[String: Any]])?.map { $0["to"] as? String } == ["2,2"])
            // Incoming links (the console's "links in"): both reaching 2,2, cheapest first.
            let incoming = try await client.call(.get, "/v1/links/neighbors?coord=2,2&direction=in")
            #expect((incoming["neighbors"] as? [[String: Any]])?.map { $0["from"] as? String } == ["1,1", "0,0"])
            let outgoingOf22 = try await client.call(.get, "/v1/links/neighbors?coord=2,2&direction=out")
            #expect((outgoingOf22["neighbors"] as? [[String: Any]])?.isEmpty == true)
            let sideways = try await client.call(.get, "/v1/links/neighbors?coord=2,2&direction=both")
            #expect(sideways.status == .badRequest && sideways["detail"] as? String == "direction must be 'out' or 'in'")
            let path = try await client.call(.get, "/v1/links/path?from=0,0&to=2,2")
            #expect(path["found"] as? Bool == true && path["path"] as? [String] == ["0,0", "1,1", "2,2"] && path["total_weight"] as? Double == 2)
            let none = try await client.call(.get, "/v1/links/path?from=2,2&to=0,0")
            #expect(none["found"] as? Bool == false && (none["path"] as? [Any])?.isEmpty == true)
            #expect(try await client.call(.post, "/v1/links", #"{"from":"0,0","to":"9,9"}"#).status == .notFound)
            #expect(try await client.call(.get, "/v1/links/neighbors?coord=9,9").status == .notFound)
        }
    }

    @Test func exportThenImport() async throws {
        try await withApp { client in
            _ = try await client.call(
                .post, "/v1/memories/bulk",
                #"{"items":[{"coord":"1","payload":{"text":"one"}},{"coord":"2","payload":{"text":"two"},"type":"semantic"}]}"#)
            let export = try await client.call(.get, "/v1/export", namespace: "src")
            #expect(export.text.split(separator: "\n").count == 1 && export.text.contains(#""soma_export""#), "an empty namespace: the header alone")
            let full = try await client.call(.get, "/v1/export")
            #expect(full.headers[.contentType] == "application/x-ndjson")
            let lines = full.text.split(separator: "\n")
            #expect(lines.count == 3, "a header and two memories")
            let imported = try await client.call(.post, "/v1/import", full.text, namespace: "copy")
            #expect(imported.status == .ok && imported["imported"] as? Int == 2 && imported["links"] as? Int == 0)
            let again = try await client.call(.post, "/v1/import", full.text, namespace: "copy")
            #expect(again["imported"] as? Int == 0 && again["unchanged"] as? Int == 2, "the same file again changes nothing")
            #expect(try await client.call(.get, "/v1/stats", namespace: "copy")["semantic"] as? Int == 1)
            let bad = try await client.call(.post, "/v1/import", "{\"coordinate\":[1],\"payload\":{}}\n{oops", namespace: "bad")
            #expect(bad.status == .badRequest && bad.isJSONError && (bad["detail"] as? String)?.contains("line 2") == true)
            #expect(try await client.call(.get, "/v1/stats", namespace: "bad")["total"] as? Int == 0)
        }
    }
}
