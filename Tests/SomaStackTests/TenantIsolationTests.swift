import ConformanceKit
import Foundation
import Testing

/// Two namespace-limited tokens, each sent to every route of the API (the original's routes and
/// /v1), as a process on the SQLite default and on PostgreSQL + Redis: with its own namespace a
/// token reads, writes, searches, links, exports and imports only its own memories; with the
/// other's namespace, or none, every route refuses it (403).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct TenantIsolationTests {
    struct Tenant {
        let token: String
        let namespace: String
        /// A word only this tenant's memories hold.
        let marker: String
    }

    /// Namespaces of their own per run: a database kept from an earlier run must not count.
    static let run = UUID().uuidString.prefix(8).lowercased()
    static let alpha = Tenant(token: "alpha-token-\(UUID().uuidString)", namespace: "alpha-\(run)", marker: "alphaonly")
    static let beta = Tenant(token: "beta-token-\(UUID().uuidString)", namespace: "beta-\(run)", marker: "betaonly")

    /// Every authenticated route, with a request that exercises it.
    static func routes(_ tenant: Tenant) -> [(method: String, path: String, body: String?)] {
        let marker = tenant.marker
        return [
            ("POST", "/store", #"{"coord":"5,5","payload":{"text":"\#(marker) stored again"}}"#),
            ("POST", "/store_bulk", #"{"items":[{"coord":"6,6","payload":{"text":"\#(marker) bulk again"}}]}"#),
            ("POST", "/recall", #"{"query":"secret plan"}"#), ("GET", "/recall?query=plan", nil),
            ("POST", "/recall_batch", #"{"queries":["plan","second"]}"#), ("POST", "/recall_with_scores", #"{"query":"plan"}"#),
            ("POST", "/recall_with_context", #"{"query":"plan","context":{"text":"\#(marker) secret plan"}}"#),
            ("POST", "/keyword_search", #"{"term":"plan","exact":false}"#),
            ("POST", "/hybrid_recall_with_scores", #"{"query":"secret plan","exact":false}"#),
            ("POST", "/link", #"{"from_coord":"2,2","to_coord":"3,3"}"#),
            ("GET", "/range?min=0,0&max=9,9", nil), ("GET", "/neighbors?coord=1,1", nil), ("GET", "/shortest_path?frm=1,1&to=3,3", nil),
            ("GET", "/stats", nil),
            ("POST", "/v1/memories", #"{"coord":"7,7","payload":{"text":"\#(marker) v1 store"}}"#),
            ("POST", "/v1/memories/bulk", #"{"items":[{"coord":"8,8","payload":{"text":"\#(marker) v1 bulk"}}]}"#),
            ("GET", "/v1/memories/1,1", nil), ("GET", "/v1/memories", nil), ("GET", "/v1/memories/range?min=0,0&max=9,9", nil),
            ("PATCH", "/v1/memories/7,7", #"{"importance":3}"#),
            ("POST", "/v1/memories/search", #"{"query":"secret plan","mode":"hybrid","top_k":50}"#),
            ("POST", "/v1/memories/search", #"{"query":"plan","mode":"keyword","top_k":50}"#),
            ("POST", "/v1/memories/search", #"{"query":"plan","mode":"vector","top_k":50}"#),
            ("POST", "/v1/links", #"{"from":"1,1","to":"8,8","type":"related","weight":1}"#),
            ("GET", "/v1/links/neighbors?coord=1,1", nil), ("GET", "/v1/links/path?from=1,1&to=3,3", nil),
            ("GET", "/v1/export", nil), ("GET", "/v1/stats", nil),
            ("POST", "/v1/import", #"{"coordinate":[9,9],"payload":{"text":"\#(marker) imported"}}"#),
            ("POST", "/v1/memories/delete", #"{"coords":["6,6"]}"#), ("DELETE", "/v1/memories/5,5", nil),
        ]
    }

    func call(_ server: SomaServer, _ tenant: Tenant, namespace: String?, _ route: (method: String, path: String, body: String?)) async throws
        -> SomaServer.Reply
    {
        var headers = ["Authorization": "Bearer \(tenant.token)"]
        if let namespace { headers["X-Soma-Namespace"] = namespace }
        return try await server.call(route.method, route.path, route.body, headers: headers)
    }

    func tokensFile() throws -> String {
        let path = Scratch.path("soma-tokens").path
        try "\(Self.alpha.token): \(Self.alpha.namespace)\n\(Self.beta.token): \(Self.beta.namespace)\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func check(_ server: SomaServer) async throws {
        let tenants = [Self.alpha, Self.beta]
        // Each tenant's own memories: three coordinates, two links.
        for tenant in tenants {
            for (coordinate, words) in [("1,1", "secret plan"), ("2,2", "second note"), ("3,3", "third plan")] {
                let body = #"{"coord":"\#(coordinate)","payload":{"text":"\#(tenant.marker) \#(words)","owner":"\#(tenant.namespace)"}}"#
                let stored = try await call(server, tenant, namespace: tenant.namespace, ("POST", "/v1/memories", body))
                try #require(stored.status < 300, "\(stored.text)")
            }
            let linked = try await call(
                server, tenant, namespace: tenant.namespace, ("POST", "/v1/links", #"{"from":"1,1","to":"2,2","type":"next","weight":1}"#))
            try #require(linked.status < 300, "\(linked.text)")
        }
        for tenant in tenants {
            let other = tenant.namespace == Self.alpha.namespace ? Self.beta : Self.alpha
            for route in Self.routes(tenant) {
                // Its own namespace: the route works and shows nothing of the other's.
                let own = try await call(server, tenant, namespace: tenant.namespace, route)
                #expect(
                    own.status < 500 && own.status != 401 && own.status != 403,
                    "\(route.method) \(route.path) as \(tenant.namespace): \(own.status) \(own.text.prefix(300))")
                #expect(
                    !own.text.contains(other.marker),
                    "\(route.method) \(route.path) as \(tenant.namespace) showed \(other.namespace)'s memories: \(own.text.prefix(500))")
                // The other's namespace, and the default one: refused before anything is read or written.
                for namespace in [other.namespace, nil] {
                    let refused = try await call(server, tenant, namespace: namespace, route)
                    #expect(
                        refused.status == 403,
                        "\(route.method) \(route.path) with \(tenant.namespace)'s token in \(namespace ?? "the default namespace"): \(refused.status) \(refused.text.prefix(300))"
                    )
                    #expect(!refused.text.contains(other.marker))
                }
            }
        }
        // Nothing one tenant did changed the other's memories.
        for tenant in tenants {
            let first = try await call(server, tenant, namespace: tenant.namespace, ("GET", "/v1/memories/1,1", nil))
            #expect(
                (first["payload"] as? [String: Any])?["text"] as? String == "\(tenant.marker) secret plan" && first["version"] as? Int == 1,
                "\(first.text)")
            let exported = try await call(server, tenant, namespace: tenant.namespace, ("GET", "/v1/export", nil))
            let lines = exported.text.split(separator: "\n")
            #expect(lines.first?.contains(#""namespace":"\#(tenant.namespace)""#) == true, "the header names the tenant's own namespace")
            let memories = lines.filter { !$0.hasPrefix(#"{"link""#) && !$0.hasPrefix(#"{"soma_export""#) }
            // 1,1 2,2 3,3, then 6,6 (deleted), 7,7, 8,8, 9,9 (imported); 5,5 deleted.
            #expect(memories.count == 6, "\(tenant.namespace) exported \(memories.count) memories: \(exported.text.prefix(600))")
            #expect(memories.allSatisfy { $0.contains(tenant.marker) })
        }
    }

    @Test func onTheSQLiteDefault() async throws {
        let data = Scratch.path("soma-isolation").path
        let server = try SomaServer(environment: ["SOMA_DATA_DIR": data, "SOMA_API_TOKENS_FILE": try tokensFile(), "SOMA_RATE_LIMIT_MAX": "0"])
        defer { #expect(server.stop()) }
        try await server.ready()
        try await check(server)
    }

    @Test(.enabled(if: Stack.available, Comment(rawValue: Stack.missing)))
    func onPostgreSQLAndRedis() async throws {
        let server = try await Stack.server(
            ["SOMA_API_TOKENS_FILE": try tokensFile(), "PGVECTOR_TABLE": "isolation_vectors"], database: "soma_isolation")
        defer { #expect(server.stop()) }
        try await check(server)
    }
}
