import ConformanceKit
import Foundation
import SomaCore
import SomaRedis
import Testing

@Suite("Redis cache against a real redis-server", .enabled(if: TestServers.redisURL != nil, Comment(rawValue: TestServers.redisMissing)))
struct RedisCacheTests {
    static func client() throws -> RedisClient {
        RedisClient(try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!])))
    }

    @Test(arguments: CacheConformance.checks)
    func conformance(_ check: CacheConformance.Check) async throws {
        try await check.run(RedisCache(client: try Self.client()))
    }

    @Test func endpointReadsURLAndOverrides() throws {
        let endpoint = try RedisEndpoint(BackendConfiguration(["REDIS_URL": "redis://app:s%40cret@cache.internal:6380/3", "REDIS_DB": "5"]))
        #expect(endpoint.host == "cache.internal")
        #expect(endpoint.port == 6380)
        #expect(endpoint.username == "app")
        #expect(endpoint.password == "s@cret")
        #expect(endpoint.database == 5)
        #expect(throws: BackendError.self) { try RedisEndpoint(BackendConfiguration(["REDIS_URL": "rediss://cache:6380"])) }
        #expect(throws: BackendError.self) { try RedisEndpoint(BackendConfiguration(["REDIS_URL": "redis://cache/notanumber"])) }
    }

    @Test func wrongPasswordIsAClearError() async throws {
        var endpoint = try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!]))
        endpoint.password = "wrong"
        await #expect(throws: RedisError.self) { try await RedisClient(endpoint).command("PING") }
    }

    @Test func pipelineAnswersInOrderAndKeepsBinaryValues() async throws {
        let client = try Self.client()
        let key = "test:bin:\(UUID())"
        let binary: [UInt8] = [0, 255, 10, 13, 124]
        let replies = try await client.pipeline([
            [Array("SET".utf8), Array(key.utf8), binary],
            [Array("GET".utf8), Array(key.utf8)],
            [Array("DEL".utf8), Array(key.utf8)],
            [Array("NOSUCHCOMMAND".utf8)],
        ])
        #expect(replies[0] == .status("OK"))
        #expect(replies[1] == .bulk(binary))
        #expect(replies[2] == .integer(1))
        if case .error = replies[3] {} else { Issue.record("an unknown command answers with an error reply, got \(replies[3])") }
    }
}
