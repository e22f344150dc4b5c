import Foundation
import Testing
@testable import SomaService

/// The original service's routes keep their request and response shapes.
@Suite struct LegacyRouteTests {
    static let seed =
        #"{"items":[{"coord":"1,2,3","payload":{"text":"the cat sat on the mat","project":"alpha"},"type":"episodic"},{"coord":"4,5,6","payload":{"text":"dogs chase cats","project":"beta"},"type":"semantic"},{"coord":"7,8,9","payload":{"text":"revenue grew"}}]}"#

    @Test func storeAndRecallShapes() async throws {
        try await withApp { client in
            let stored = try await client.call(.post, "/store", #"{"coord":"0,0,0","payload":{"text":"first"},"type":"episodic"}"#)
            #expect(stored.status == .ok && stored["ok"] as? Bool == true)
            let bulk = try await client.call(.post, "/store_bulk", Self.seed)
            #expect(bulk["stored"] as? Int == 3)
            let recall = try await client.call(.post, "/recall", #"{"query":"cat on the mat","top_k":2}"#)
            let matches = try #require(recall["matches"] as? [[String: Any]])
            #expect(matches.count == 2)
            let top = matches[0]
            #expect(top["text"] as? String == "the cat sat on the mat")
            #expect(top["memory_type"] as? String == "episodic")
            #expect(top["coordinate"] as? [Double] == [1, 2, 3])
            #expect(top["timestamp"] is Double)
            let typed = try await client.call(.post, "/recall", #"{"query":"cats","type":"semantic"}"#)
            #expect((typed["matches"] as? [[String: Any]])?.map { $0["text"] as? String } == ["dogs chase cats"])
            let filters = "%7B%22project%22%3A%22beta%22%7D"
            let viaGet = try await client.call(.get, "/recall?query=cats&top_k=3&filters=\(filters)")
            #expect((viaGet["matches"] as? [[String: Any]])?.map { $0["project"] as? String } == ["beta"])
            let hybrid = try await client.call(.get, "/recall?query=revenue%20grew&hybrid=true")
            #expect((hybrid["matches"] as? [[String: Any]])?.first?["text"] as? String == "revenue grew")
            let batch = try await client.call(.post, "/recall_batch", #"{"queries":["cat","revenue"],"top_k":1}"#)
            let batches = try #require(batch["batches"] as? [[[String: Any]]])
            #expect(batches.count == 2 && batches.allSatisfy { $0.count == 1 })
            #expect(batches[1].first?["text"] as? String == "revenue grew")
        }
    }

    @Test func scoredRecallShapes() async throws {
        try await withApp { client in
            _ = try await client.call(.post, "/store_bulk", Self.seed)
            let scored = try await client.call(.post, "/recall_with_scores", #"{"query":"cat","top_k":3}"#)
            let results = try #require(scored["results"] as? [[String: Any]])
            #expect(results.count == 3 && results.allSatisfy { $0["payload"] is [String: Any] && $0["score"] is Double })
            let withContext = try await client.call(.post, "/recall_with_context", #"{"query":"cat","context":{"project":"beta"},"top_k":2}"#)
            let contextual = try #require(withContext["results"] as? [[String: Any]])
            #expect(contextual.first?["project"] as? String == "beta", "the original answered bare payloads here")
            let keyword = try await client.call(.post, "/keyword_search", #"{"term":"CATS","exact":false,"case_sensitive":false,"top_k":5}"#)
            #expect((keyword["results"] as? [[String: Any]])?.map { $0["text"] as? String } == ["dogs chase cats"])
            let exact = try await client.call(.post, "/keyword_search", #"{"term":"cat","exact":true}"#)
            #expect((exact["results"] as? [Any])?.isEmpty == true)
            let hybrid = try await client.call(
                .post, "/hybrid_recall_with_scores", #"{"query":"revenue grew","terms":["revenue"],"boost":2,"top_k":2}"#)
            let fused = try #require(hybrid["results"] as? [[String: Any]])
            #expect((fused.first?["payload"] as? [String: Any])?["text"] as? String == "revenue grew")
        }
    }

    @Test func graphRangeAndStatsShapes() async throws {
        try await withApp { client in
            _ = try await client.call(.post, "/store_bulk", Self.seed)
            let range = try await client.call(.get, "/range?min=0,0,0&max=5,5,6")
            #expect(Set((range["coords"] as? [[Double]]) ?? []) == [[1, 2, 3], [4, 5, 6]])
            #expect(
                try await client.call(.post, "/link", #"{"from_coord":"1,2,3","to_coord":"4,5,6","type":"related","weight":1.5}"#)["ok"] as? Bool
                    == true)
            _ = try await client.call(.post, "/link", #"{"from_coord":"4,5,6","to_coord":"7,8,9"}"#)
            let neighbors = try await client.call(.get, "/neighbors?coord=1,2,3&link_type=related&limit=5")
            // The original's [coordinate, edge data] pairs.
            let list = try #require(neighbors["neighbors"] as? [[Any]])
            let edge = try #require(list.first?.last as? [String: Any])
            #expect(list.count == 1 && list[0].first as? [Double] == [4, 5, 6] && edge["weight"] as? Double == 1.5)
            #expect(edge["to"] as? [Double] == [4, 5, 6] && edge["type"] as? String == "related" && edge["timestamp"] is Double)
            #expect((try await client.call(.get, "/neighbors?coord=9,9,9")["neighbors"] as? [Any])?.isEmpty == true)
            let path = try await client.call(.get, "/shortest_path?frm=1,2,3&to=7,8,9")
            #expect(path["path"] as? [[Double]] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
            #expect((try await client.call(.get, "/shortest_path?frm=7,8,9&to=1,2,3")["path"] as? [Any])?.isEmpty == true)
            let stats = try await client.call(.get, "/stats")
            #expect(stats["total_memories"] as? Int == 3 && stats["episodic"] as? Int == 2 && stats["semantic"] as? Int == 1)
        }
    }

    @Test func probesMetricsAndAPIDocument() async throws {
        try await withApp { client in
            for path in ["/health", "/healthz", "/readyz"] {
                let reply = try await client.call(.get, path)
                #expect(reply.status == .ok)
                for key in ["kv_store", "vector_store", "graph_store", "prediction_provider"] {
                    #expect(reply[key] as? Bool == true, "\(path) \(key)")
                }
            }
            _ = try await client.call(.get, "/stats")
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("hb_requests{http_route=\"/stats\""))  // per-route request counter
            #expect(metrics.text.contains("http_server_request_duration_bucket"))
            let document = try await client.call(.get, "/openapi.json")
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: Any])
            for path in ["/store", "/recall", "/v1/memories", "/v1/memories/{coord}", "/v1/links/path", "/healthz", "/metrics"] {
                #expect(paths[path] != nil, "\(path) is documented")
            }
        }
    }
}
