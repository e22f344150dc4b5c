import Foundation
import HTTPTypes
import SomaCore
import Testing
@testable import SomaService

@Suite struct AuthTests {
    static let settings = testSettings { settings in
        settings.tokens = AccessTokens(grants: [("admin-token", nil), ("team-a-token", ["team-a"])])
    }

    @Test func tokensGuardEveryRouteButProbes() async throws {
        try await withApp(Self.settings) { client in
            let missing = try await client.call(.get, "/v1/stats")
            #expect(missing.status == .unauthorized && missing.isJSONError && missing.headers[.wwwAuthenticate] == "Bearer")
            let wrong = try await client.call(.get, "/v1/stats", token: "nope")
            #expect(wrong.status == .forbidden && wrong.isJSONError)
            #expect(try await client.call(.post, "/store", #"{"coord":"1","payload":{}}"#).status == .unauthorized)
            #expect(try await client.call(.post, "/store", #"{"coord":"1","payload":{}}"#, token: "admin-token").status == .ok)
            #expect(try await client.call(.get, "/stats", headers: [.authorization: "Basic YWRtaW4="]).status == .unauthorized)
            for open in ["/health", "/healthz", "/readyz", "/metrics", "/openapi.json"] {
                #expect(try await client.call(.get, open).status == .ok, "\(open) needs no token")
            }
        }
    }

    @Test func namespaceLimitedTokens() async throws {
        try await withApp(Self.settings) { client in
            #expect(try await client.call(.get, "/v1/stats", token: "team-a-token", namespace: "team-a").status == .ok)
            let other = try await client.call(.get, "/v1/stats", token: "team-a-token", namespace: "team-b")
            #expect(other.status == .forbidden && other["code"] as? String == "namespace_forbidden")
            #expect(try await client.call(.get, "/v1/stats", token: "team-a-token").status == .forbidden, "the default namespace is not granted")
            #expect(try await client.call(.get, "/v1/stats", token: "admin-token", namespace: "team-b").status == .ok)
            #expect(try await client.call(.get, "/v1/stats", token: "admin-token", namespace: "bad namespace!").status == .badRequest)
        }
    }

    @Test func tokenComparisonAndFileParsing() throws {
        #expect(AccessTokens.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AccessTokens.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AccessTokens.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
        let parsed = try AccessTokens.parseFile("# comment\n\nalpha: ns1, ns2\nbeta: *\ngamma\n")
        #expect(parsed.count == 3)
        #expect(parsed[0].token == "alpha" && parsed[0].namespaces == ["ns1", "ns2"])
        #expect(parsed[1].namespaces == nil && parsed[2].namespaces == nil)
        #expect(throws: SettingsError.self) { try AccessTokens.parseFile(": ns1") }
    }
}

@Suite struct LimitTests {
    @Test func rateLimitRefusesThenResetsAfterTheWindow() async throws {
        let settings = testSettings { $0.rateLimit = RateLimitPolicy(max: 3, window: .seconds(5)) }
        try await withApp(settings) { client in
            // Windows are fixed: on a loaded machine the calls may straddle a window's end, so the
            // refusal comes after 3 to 6 allowed calls, never later and never sooner.
            var allowed = 0
            var refused: Reply?
            while refused == nil, allowed <= 6 {
                let reply = try await client.call(.get, "/v1/stats")
                if reply.status == .ok { allowed += 1 } else { refused = reply }
            }
            let refusal = try #require(refused, "never refused after \(allowed) calls")
            #expect((3...6).contains(allowed))
            #expect(refusal.status == .tooManyRequests && refusal.isJSONError)
            let retryAfter = refusal.headers[.retryAfter].flatMap(Int.init)
            #expect(retryAfter.map { $0 >= 1 } == true)
            #expect(try await client.call(.get, "/healthz").status == .ok, "probes are never limited")
            try await Task.sleep(for: .milliseconds(Int64(retryAfter ?? 1) * 1000 + 300))
            #expect(try await client.call(.get, "/v1/stats").status == .ok)
        }
    }

    @Test func policyDecisions() {
        let policy = RateLimitPolicy(max: 2, window: .seconds(10))
        #expect(policy.decide(CounterValue(count: 2, resetsIn: .seconds(5))) == .allow)
        #expect(policy.decide(CounterValue(count: 3, resetsIn: .milliseconds(4200))) == .refuse(retryAfter: 5))
        #expect(policy.decide(CounterValue(count: 3, resetsIn: .zero)) == .refuse(retryAfter: 1))
        #expect(RateLimitPolicy(max: 0, window: .seconds(1)).decide(CounterValue(count: 1000, resetsIn: .seconds(1))) == .allow)
    }

    @Test func oversizedBodiesAndRequestsAre413() async throws {
        let settings = testSettings { $0.maxBodyBytes = 1024 }
        try await withApp(settings) { client in
            let big = #"{"coord":"1","payload":{"text":"\#(String(repeating: "x", count: 2000))"}}"#
            let reply = try await client.call(.post, "/v1/memories", big)
            #expect(reply.status == .contentTooLarge && reply.isJSONError)
            #expect(try await client.call(.get, "/v1/stats")["total"] as? Int == 0)
            let items = (1...51).map { #"{"coord":"\#($0)","payload":{}}"# }.joined(separator: ",")
            #expect(try await client.call(.post, "/store_bulk", #"{"items":[\#(items)]}"#).status == .contentTooLarge)
        }
    }
}

@Suite struct UnknownFieldTests {
    /// The /v1 document says `additionalProperties: false`: a misspelt field is refused, by name
    /// (nested ones by path), and nothing is written. The original's routes stay lenient.
    @Test func unknownFieldsOnV1BodiesAre400NamingThem() async throws {
        try await withApp { client in
            let cases: [(HTTPRequest.Method, String, String, String)] = [
                (.post, "/v1/memories", #"{"coord":"1","payload":{},"improtance":3}"#, "improtance"),
                (.post, "/v1/memories/bulk", #"{"items":[{"coord":"1","payload":{}},{"coord":"2","payload":{},"ttl":5}]}"#, "items[1].ttl"),
                (.post, "/v1/memories/delete", #"{"coords":["1"],"all":true}"#, "all"),
                (.post, "/v1/memories/search", #"{"query":"x","topk":3}"#, "topk"),
                (.patch, "/v1/memories/1", #"{"importance":2,"note":"x"}"#, "note"),
                (.post, "/v1/links", #"{"from":"1","to":"2","kind":"x"}"#, "kind"),
            ]
            for (method, path, body, field) in cases {
                let reply = try await client.call(method, path, body)
                #expect(reply.status == .badRequest && reply["code"] as? String == "unknown_field", "\(path): \(reply.text)")
                #expect((reply["detail"] as? String)?.contains("'\(field)'") == true, "\(path): \(reply.text)")
            }
            let search = try await client.call(.post, "/v1/memories/search", #"{"query":"x","topk":3}"#)
            #expect((search["detail"] as? String)?.contains("top_k") == true, "the known fields are listed: \(search.text)")
            #expect(try await client.call(.get, "/v1/stats")["total"] as? Int == 0, "nothing was stored")
            #expect(try await client.call(.post, "/v1/memories", #"{"coord":"1","payload":{"any":{"nested":1}},"importance":3}"#).status.code < 300)
            #expect(try await client.call(.post, "/store", #"{"coord":"2","payload":{},"improtance":3}"#).status == .ok)
        }
    }
}

@Suite struct BadInputTests {
    /// Every route that takes input, with inputs that must be refused with a 4xx JSON error.
    static let cases: [(HTTPRequest.Method, String, String?)] = [
        (.post, "/v1/memories", #"{"coord":"1,x","payload":{}}"#),
        // NUL in a string: no backend can store or search it (found by schemathesis: it was a 503).
        (.post, "/v1/memories", #"{"coord":"1","payload":{"text":"a\u0000b"}}"#),
        (.post, "/v1/memories/search", #"{"query":"a\u0000b","mode":"keyword"}"#),
        (.post, "/hybrid_recall_with_scores", #"{"query":"a\u0000b","exact":true}"#),
        (.post, "/v1/import", "{\"coord\":\"5\",\"payload\":{\"k\":\"\\u0000\"}}\n"),
        (.post, "/v1/memories", #"{"coord":"NaN","payload":{}}"#),
        (.post, "/v1/memories", #"{"coord":"","payload":{}}"#),
        (.post, "/v1/memories", #"{"coord":[],"payload":{}}"#),
        (.post, "/v1/memories", #"{"coord":"1","payload":"text"}"#),
        (.post, "/v1/memories", #"{"payload":{}}"#),
        (.post, "/v1/memories", #"{"coord":"1","payload":{},"type":"dream"}"#),
        (.post, "/v1/memories", #"{"coord":"1","payload":{},"importance":"high"}"#),
        (.post, "/v1/memories", #"{"coord":"1","payload":{},"ttl_seconds":-5}"#),
        (.post, "/v1/memories", #"{"coord":"1","payload":{},"expires_at":"tomorrow"}"#),
        (.post, "/v1/memories", #"{"coord":"1","payload":{"a":NaN}}"#),
        (.post, "/v1/memories", #"{"coord":"1","payload":{"#),
        (.post, "/v1/memories", String(repeating: "[", count: 5000)),
        (.post, "/v1/memories", #"{"coord":"1","payload":\#(String(repeating: #"{"a":"#, count: 40))1\#(String(repeating: "}", count: 40))}"#),
        (.post, "/v1/memories", nil),
        (.post, "/v1/memories", "[]"),
        (.post, "/v1/memories/bulk", #"{"items":{}}"#),
        (.post, "/v1/memories/bulk", #"{"items":[{"coord":"1","payload":{}},{"coord":"bad","payload":{}}]}"#),
        (.post, "/v1/memories/delete", #"{"coords":"1"}"#),
        (.get, "/v1/memories/abc", nil),
        (.patch, "/v1/memories/1", #"{"importance":"x"}"#),
        (.patch, "/v1/memories/1", #"{}"#),
        (.delete, "/v1/memories/1,,2", nil),
        (.get, "/v1/memories?limit=0", nil),
        (.get, "/v1/memories?limit=abc", nil),
        (.get, "/v1/memories?cursor=zzz", nil),
        (.get, "/v1/memories?type=other", nil),
        (.post, "/v1/memories/search", #"{"top_k":3}"#),
        (.post, "/v1/memories/search", #"{"query":"x","top_k":0}"#),
        (.post, "/v1/memories/search", #"{"query":"x","top_k":100000}"#),
        (.post, "/v1/memories/search", #"{"query":"x","mode":"psychic"}"#),
        (.post, "/v1/memories/search", #"{"query":"x","filters":[1]}"#),
        (.get, "/v1/memories/range?min=0,0", nil),
        (.get, "/v1/memories/range?min=0,0&max=1", nil),
        (.get, "/v1/memories/range?min=2,2&max=1,1", nil),
        (.post, "/v1/links", #"{"from":"1","to":"2","weight":-1}"#),
        (.post, "/v1/links", #"{"from":"1"}"#),
        (.get, "/v1/links/neighbors", nil),
        (.get, "/v1/links/path?from=1&to=x", nil),
        (.get, "/v1/links/path?from=1&to=2&max_depth=99", nil),
        (.post, "/v1/import", "not json at all"),
        (.post, "/store", #"{"coord":"1,2,inf","payload":{}}"#),
        (.post, "/store", #"{"coord":1,"payload":{}}"#),
        (.post, "/store_bulk", #"{"items":[{"payload":{}}]}"#),
        (.post, "/recall", #"{"query":5}"#),
        (.post, "/recall", #"{"query":"x","top_k":-1}"#),
        (.get, "/recall", nil),
        (.get, "/recall?query=x&filters=notjson", nil),
        (.get, "/recall?query=x&top_k=ten", nil),
        (.post, "/recall_batch", #"{"queries":"x"}"#),
        (.post, "/recall_with_scores", #"{"query":"x","type":"nope"}"#),
        (.post, "/recall_with_context", #"{"query":"x"}"#),
        (.post, "/keyword_search", #"{"term":""}"#),
        (.post, "/keyword_search", #"{"exact":true}"#),
        (.post, "/hybrid_recall_with_scores", #"{"query":"x","boost":-2}"#),
        (.get, "/range?min=a&max=b", nil),
        (.post, "/link", #"{"from_coord":"1","to_coord":"2","weight":"heavy"}"#),
        (.get, "/neighbors?coord=", nil),
        (.get, "/shortest_path?frm=1", nil),
    ]

    @Test func everyBadInputIsAClear4xx() async throws {
        try await withApp { client in
            _ = try await client.call(.post, "/store_bulk", #"{"items":[{"coord":"1","payload":{}},{"coord":"2","payload":{}}]}"#)
            for (method, path, body) in Self.cases {
                let reply = try await client.call(method, path, body)
                #expect((400..<500).contains(reply.status.code), "\(method) \(path) \(body ?? "") -> \(reply.status.code)")
                #expect(reply.isJSONError, "\(method) \(path) \(body ?? ""): \(reply.text)")
            }
            let stats = try await client.call(.get, "/v1/stats")
            #expect(stats["total"] as? Int == 2, "no bad request wrote anything")
        }
    }

    @Test func statusCodesDistinguishSyntaxFromSchema() async throws {
        try await withApp { client in
            let truncated = try await client.call(.post, "/store", #"{"coord":"1","payload":"#)
            let missingField = try await client.call(.post, "/store", #"{"payload":{}}"#)
            let badCoordinate = try await client.call(.post, "/store", #"{"coord":"x","payload":{}}"#)
            let unknownRoute = try await client.call(.get, "/no/such/route")
            #expect(truncated.status == .badRequest)
            #expect(missingField.status == .unprocessableContent)
            #expect(badCoordinate.status == .badRequest)
            #expect(unknownRoute.status == .notFound && unknownRoute.isJSONError)
        }
    }
}

@Suite struct IsolationTests {
    @Test func nothingCrossesNamespaces() async throws {
        try await withApp { client in
            _ = try await client.call(
                .post, "/store_bulk",
                #"{"items":[{"coord":"1,1","payload":{"secret":"alpha-only","text":"alpha secret plan"}},{"coord":"2,2","payload":{"text":"alpha second"}}]}"#,
                namespace: "alpha")
            _ = try await client.call(.post, "/link", #"{"from_coord":"1,1","to_coord":"2,2"}"#, namespace: "alpha")
            let b = "beta"
            let reads: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/memories/1,1", nil), (.get, "/v1/memories", nil), (.get, "/v1/memories/range?min=0,0&max=9,9", nil),
                (.post, "/v1/memories/search", #"{"query":"alpha secret plan","mode":"hybrid"}"#),
                (.post, "/v1/memories/search", #"{"query":"alpha","mode":"keyword"}"#),
                (.get, "/v1/links/neighbors?coord=1,1", nil), (.get, "/v1/links/path?from=1,1&to=2,2", nil),
                (.get, "/v1/export", nil), (.get, "/v1/stats", nil), (.get, "/stats", nil),
                (.post, "/recall", #"{"query":"alpha secret plan"}"#), (.get, "/recall?query=alpha", nil),
                (.post, "/recall_batch", #"{"queries":["alpha"]}"#), (.post, "/recall_with_scores", #"{"query":"alpha"}"#),
                (.post, "/recall_with_context", #"{"query":"alpha","context":{"secret":"alpha-only"}}"#),
                (.post, "/keyword_search", #"{"term":"alpha","exact":false}"#),
                (.post, "/hybrid_recall_with_scores", #"{"query":"alpha-only","exact":false}"#),
                (.get, "/range?min=0,0&max=9,9", nil), (.get, "/neighbors?coord=1,1", nil), (.get, "/shortest_path?frm=1,1&to=2,2", nil),
            ]
            for (method, path, body) in reads {
                let reply = try await client.call(method, path, body, namespace: b)
                #expect(!reply.text.contains("alpha"), "\(path) leaked: \(reply.text)")
                #expect(reply.json["total"] as? Int ?? 0 == 0 && reply.json["total_memories"] as? Int ?? 0 == 0)
            }
            // Writes in beta leave alpha untouched.
            #expect(try await client.call(.delete, "/v1/memories/1,1", namespace: b).status == .notFound)
            #expect(try await client.call(.post, "/v1/memories/delete", #"{"coords":["1,1","2,2"]}"#, namespace: b)["deleted"] as? Int == 0)
            #expect(try await client.call(.patch, "/v1/memories/1,1", #"{"importance":5}"#, namespace: b).status == .notFound)
            #expect(try await client.call(.post, "/link", #"{"from_coord":"1,1","to_coord":"2,2"}"#, namespace: b).status == .notFound)
            _ = try await client.call(.post, "/store", #"{"coord":"1,1","payload":{"text":"beta own"}}"#, namespace: b)
            let alpha = try await client.call(.get, "/v1/memories/1,1", namespace: "alpha")
            #expect((alpha["payload"] as? [String: Any])?["secret"] as? String == "alpha-only" && alpha["version"] as? Int == 1)
            #expect(try await client.call(.get, "/v1/stats", namespace: "alpha")["total"] as? Int == 2)
        }
    }
}

@Suite struct BackendOutageTests {
    @Test func storageDownGives503AndNotReady() async throws {
        try await withApp(storage: UnreachableStorage()) { client in
            let store = try await client.call(.post, "/store", #"{"coord":"1","payload":{}}"#)
            #expect(store.status == .serviceUnavailable && store.isJSONError && store.headers[.retryAfter] != nil)
            #expect(!(store.text.contains("ConnectionRefused")), "no internals in the answer")
            #expect(try await client.call(.get, "/v1/memories/1").status == .serviceUnavailable)
            #expect(try await client.call(.get, "/stats").status == .serviceUnavailable)
            #expect(try await client.call(.get, "/readyz").status == .serviceUnavailable)
            let live = try await client.call(.get, "/healthz")
            #expect(live.status == .ok, "liveness stays up: a restart would not bring storage back")
            #expect(live["kv_store"] as? Bool == false)
            #expect(live["status"] as? String == "unavailable")
            #expect(try await client.call(.get, "/health").status == .ok)
        }
    }

    @Test func the503sLogLineNamesBackendOperationAndCauseButNoSecret() async throws {
        let log = RecordedLog()
        try await withApp(storage: UnreachableStorage(), logger: log.logger) { client in
            let reply = try await client.call(.post, "/v1/memories", #"{"coord":"1","payload":{"text":"x"}}"#)
            #expect(reply.status == .serviceUnavailable)
            #expect(reply["detail"] as? String == "the storage backend is unavailable; try again shortly", "the body stays the documented one")
        }
        let failures = log.all.filter { $0.message == "request failed" }
        #expect(failures.count == 1)
        let line = try #require(failures.first)
        #expect(line.level == .error)
        #expect(line.metadata["capability"] == "storage")
        #expect(line.metadata["operation"]?.hasPrefix("store") == true, "operation: \(line.metadata["operation"] ?? "none")")
        #expect(
            line.metadata["cause"]?.contains("connection refused by postgres://soma:***@db.internal:5432/soma") == true,
            "cause: \(line.metadata["cause"] ?? "none")")
        #expect(!log.all.contains { record in record.metadata.values.contains { $0.contains("hunter2") } || record.message.contains("hunter2") })
    }

    /// An MCP tool's failure is a tool result, not an HTTP error, so it is logged where it happens.
    @Test func anMCPToolsBackendFailureIsLoggedWithItsCause() async throws {
        let log = RecordedLog()
        try await withApp(storage: UnreachableStorage(), logger: log.logger) { client in
            let call = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"recall","arguments":{"query":"coffee"}}}"#
            let reply = try await client.call(.post, "/mcp", call, headers: [.accept: "application/json, text/event-stream"])
            #expect(reply.status == .ok && reply.text.contains("backend_unavailable") && reply.text.contains(#""isError":true"#), "\(reply.text)")
        }
        let line = try #require(log.all.first { $0.message == "tool call failed" })
        #expect(line.metadata["tool"] == "recall" && line.metadata["capability"] == "storage")
        #expect(line.metadata["cause"]?.contains("postgres://soma:***@db.internal") == true, "cause: \(line.metadata["cause"] ?? "none")")
    }
}

@Suite struct HeaderTests {
    @Test func requestIDsAndSecurityHeaders() async throws {
        try await withApp { client in
            let echoed = try await client.call(.get, "/health", headers: [HTTPField.Name("X-Request-ID")!: "abc-123"])
            #expect(echoed.headers[HTTPField.Name("X-Request-ID")!] == "abc-123")
            let fresh = try await client.call(.get, "/health", headers: [HTTPField.Name("X-Request-ID")!: "bad\u{1}id"])
            #expect(fresh.headers[HTTPField.Name("X-Request-ID")!].map { $0 != "bad\u{1}id" && !$0.isEmpty } == true)
            #expect(echoed.headers[.xContentTypeOptions] == "nosniff")
            let preflight = try await client.call(
                .options, "/v1/stats", headers: [.origin: "https://evil.example", .accessControlRequestMethod: "GET"])
            #expect(preflight.headers[.accessControlAllowOrigin] == nil, "CORS is closed by default")
        }
        try await withApp(testSettings { $0.corsOrigins = ["https://app.example"] }) { client in
            let reply = try await client.call(.get, "/health", headers: [.origin: "https://app.example"])
            #expect(reply.headers[.accessControlAllowOrigin] == "https://app.example")
        }
    }
}
