import ConformanceKit
import Foundation
import SomaCore
import SomaRedis
import Testing

/// The whole service as a separate process against real PostgreSQL (records and pgvector) and Redis.
enum Stack {
    static var available: Bool { TestServers.postgresStackURL != nil && TestServers.redisURL != nil }
    static let missing = "needs SOMA_TEST_POSTGRES_STACK_URL and SOMA_TEST_REDIS_URL: run `eval \"$(scripts/servers.sh start)\"` first"

    /// A service on the stack database, or on `database` (another one scripts/servers.sh creates):
    /// every service relays every pending outbox row of its database, so a test that counts its
    /// events must not share one with a service running beside it.
    static func server(_ extra: [String: String] = [:], database: String? = nil) async throws -> SomaServer {
        let server = try SomaServer(
            environment: [
                "POSTGRES_URL": url(database: database),
                "REDIS_URL": TestServers.redisURL!,
                "POSTGRES_TIMEOUT_MS": "2000",
                "SOMA_RATE_LIMIT_MAX": "0",
                "PGVECTOR_TABLE": "stack_vectors",
                "SOMA_MEMORY_NAMESPACE": "stack-\(UUID().uuidString.prefix(8).lowercased())",
            ].merging(extra) { _, new in new })
        try await server.ready()
        return server
    }

    static func url(database: String?) -> String {
        guard let database else { return TestServers.postgresStackURL! }
        return TestServers.postgresStackURL!.replacingOccurrences(of: "/soma_stack?", with: "/\(database)?")
    }

    static func redisKeyExists(_ key: String) async throws -> Bool {
        let client = try RedisClient(try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!])))
        return try await client.command("EXISTS", key) == .integer(1)
    }
}

@Suite("HTTP end to end with POSTGRES_URL and REDIS_URL", .enabled(if: Stack.available, Comment(rawValue: Stack.missing)))
struct PostgresRedisStackTests {
    @Test func storeRecallLinkAndStatsThroughRealBackends() async throws {
        let stream = "stack:events:\(UUID().uuidString.prefix(8))"
        let namespace = "stack-\(UUID().uuidString.prefix(8).lowercased())"
        let server = try await Stack.server(["SOMA_BUS": "redis", "REDIS_STREAM_KEY": stream, "SOMA_MEMORY_NAMESPACE": namespace])
        defer { server.stop() }
        let health = try await server.call("GET", "/readyz")
        #expect(health.status == 200 && health["status"] as? String == "ok", "\(health.text)")

        let first = try await server.call("POST", "/v1/memories", #"{"coord":"1,0","payload":{"text":"falcon launch planned with Ada"}}"#)
        #expect(first.status == 200 || first.status == 201, "\(first.text)")
        _ = try await server.call(
            "POST", "/v1/memories", #"{"coord":"2,0","payload":{"text":"the falcon launch moved to Friday"},"type":"semantic"}"#)
        _ = try await server.call("POST", "/v1/memories", #"{"coord":"3,0","payload":{"text":"lunch order: soup"}}"#)

        let vector = try await server.call("POST", "/v1/memories/search", #"{"query":"falcon launch","top_k":2}"#)
        let vectorHits = (vector["results"] as? [[String: Any]]) ?? []
        #expect(vectorHits.count == 2, "\(vector.text)")
        let keyword = try await server.call("POST", "/v1/memories/search", #"{"query":"friday","mode":"keyword"}"#)
        #expect(((keyword["results"] as? [[String: Any]]) ?? []).count == 1, "\(keyword.text)")

        let link = try await server.call("POST", "/v1/links", #"{"from":"1,0","to":"2,0","type":"led_to"}"#)
        #expect(link.status < 300, "\(link.text)")
        let path = try await server.call("GET", "/v1/links/path?from=1,0&to=2,0")
        #expect(path.status == 200, "\(path.text)")

        let stats = try await server.call("GET", "/v1/stats")
        #expect(stats.text.contains("3"), "\(stats.text)")

        let fetched = try await server.call("GET", "/v1/memories/1,0")
        #expect(fetched.status == 200)
        let id = ((fetched["memory"] as? [String: Any])?["id"] ?? fetched["id"]) as? String
        #expect(id != nil, "\(fetched.text)")
        if let id { #expect(try await Stack.redisKeyExists("soma:mem:\(id.lowercased())"), "the read went through the Redis cache") }

        let updated = try await server.call("PATCH", "/v1/memories/1,0", #"{"importance":3}"#)
        #expect(updated.status == 200, "\(updated.text)")
        let reread = try await server.call("GET", "/v1/memories/1,0")
        #expect(reread.text.contains("\"version\":2"), "no stale record after an update: \(reread.text)")

        let deleted = try await server.call("DELETE", "/v1/memories/3,0")
        #expect(deleted.status < 300)
        #expect(try await server.call("GET", "/v1/memories/3,0").status == 404, "no stale record after a delete")

        // The outbox relay publishes every write to the Redis stream, in order per memory.
        // (The database may also hold unrelayed events of earlier runs, in other namespaces.)
        let client = try RedisClient(try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!])))
        var kinds: [String] = []
        for _ in 0..<50 where kinds.count < 6 {
            let entries = try await client.command("XRANGE", stream, "-", "+").elements
            kinds = entries.compactMap { entry -> String? in
                let body = entry.elements.last?.elements.last?.string ?? ""
                guard body.contains("\"namespace\":\"\(namespace)\"") else { return nil }
                let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                return "\((object?["coordinate"] as? [Double])?.first ?? -1):\(object?["event"] as? String ?? "?")"
            }
            if kinds.count < 6 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(kinds.sorted() == ["1.0:created", "1.0:linked", "1.0:updated", "2.0:created", "3.0:created", "3.0:deleted"])
        #expect(kinds.filter { $0.hasPrefix("1.0") } == ["1.0:created", "1.0:linked", "1.0:updated"], "in order per memory")
    }
}

@Suite("Rate limits shared through Redis", .enabled(if: Stack.available, Comment(rawValue: Stack.missing)))
struct SharedRateLimitTests {
    @Test func twoReplicasShareOneLimit() async throws {
        // Each replica alone would allow 6 requests; together they allow 6 in all. A database of
        // their own: without eventing they drop every outbox row of their database.
        let settings = ["SOMA_RATE_LIMIT_MAX": "6", "SOMA_RATE_LIMIT_WINDOW_SECONDS": "60", "REDIS_DB": "2", "EVENTING_ENABLED": "false"]
        let counters = try RedisClient(try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!, "REDIS_DB": "2"])))
        _ = try await counters.command("FLUSHDB").checked()
        let first = try await Stack.server(settings, database: "soma_limits")
        defer { first.stop() }
        let second = try await Stack.server(settings, database: "soma_limits")
        defer { second.stop() }
        var statuses: [Int] = []
        for index in 0..<8 {
            let server = index.isMultiple(of: 2) ? first : second
            statuses.append(try await server.call("GET", "/v1/stats").status)
        }
        #expect(statuses.filter { $0 == 200 }.count == 6, "\(statuses)")
        #expect(statuses.suffix(2) == [429, 429], "\(statuses)")
    }
}
