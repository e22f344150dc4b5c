import ConformanceKit
import Foundation
import SomaCore
import SomaRedis
import Synchronization
import Testing

@Suite("Redis cache against a real redis-server", .enabled(if: TestServers.redisURL != nil, Comment(rawValue: TestServers.redisMissing)))
struct RedisCacheTests {
    static func client() throws -> RedisClient {
        try RedisClient(try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!])))
    }

    @Test(arguments: CacheConformance.checks + CacheConformance.sharedCounterChecks)
    func conformance(_ check: CacheConformance.Check) async throws {
        try await check.run(RedisCache(client: try Self.client()))
    }

    /// Its row of the ability matrix (the stream bus is durable: it declares nothing).
    @Test func declaredAbilities() throws {
        #expect(Abilities.of(RedisCache(client: try Self.client())) == [.sharedCounters])
        #expect(Abilities.of(RedisStreamBus(client: try Self.client(), settings: .init())).isEmpty)
    }

    @Test func endpointReadsURLAndOverrides() throws {
        let endpoint = try RedisEndpoint(BackendConfiguration(["REDIS_URL": "redis://app:s%40cret@cache.internal:6380/3", "REDIS_DB": "5"]))
        #expect(endpoint.host == "cache.internal")
        #expect(endpoint.port == 6380)
        #expect(endpoint.username == "app")
        #expect(endpoint.password == "s@cret")
        #expect(endpoint.database == 5)
        #expect(endpoint.tls == nil)
        #expect(try RedisEndpoint(BackendConfiguration(["REDIS_URL": "rediss://cache:6380"])).tls == RedisEndpoint.TLS())
        #expect(try RedisEndpoint(BackendConfiguration(["REDIS_HOST": "cache", "REDIS_TLS": "true"])).tls == RedisEndpoint.TLS())
        #expect(throws: BackendError.self) {
            try RedisEndpoint(BackendConfiguration(["REDIS_URL": "redis://cache", "REDIS_TLS_CA_FILE": "/etc/hostname"]))
        }
        #expect(throws: BackendError.self) {
            try RedisEndpoint(BackendConfiguration(["REDIS_URL": "rediss://cache", "REDIS_TLS_CA_FILE": "/no/such/file"]))
        }
        #expect(throws: BackendError.self) { try RedisEndpoint(BackendConfiguration(["REDIS_URL": "http://cache:6380"])) }
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

    /// Callers share connections without a thread each: many commands in flight on one connection
    /// all get their own replies, in the order each sent them.
    @Test func concurrentCallersOnOneConnectionGetTheirOwnReplies() async throws {
        var endpoint = try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!]))
        endpoint.poolSize = 1
        let client = try RedisClient(endpoint)
        let prefix = "test:concurrent:\(UUID())"
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for caller in 0..<200 {
                group.addTask {
                    let key = "\(prefix):\(caller)"
                    var mismatches = 0
                    for round in 1...5 {
                        let replies = try await client.pipeline([["INCR", key], ["GET", key]].map { $0.map { Array($0.utf8) } })
                        if replies[0] != .integer(Int64(round)) || replies[1].string != String(round) { mismatches += 1 }
                    }
                    return mismatches
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(wrong == 0)
    }

    /// A server that takes the connection and never answers: the command fails (without its 300 ms
    /// deadline it would wait forever), and so does the next, not queued behind the first. The
    /// bound is loose: the suites share two cores, and this is no measure of speed.
    @Test func aServerThatNeverAnswersFailsAtTheDeadline() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 8) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        #expect(bound)
        // The kernel completes the connection from the backlog; nobody ever reads or writes.
        let client = try RedisClient(RedisEndpoint(host: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port)), timeout: .milliseconds(300)))
        for _ in 0..<2 {
            let started = ContinuousClock.now
            await #expect(throws: RedisError.self) { try await client.command("PING") }
            #expect(ContinuousClock.now - started < .seconds(15), "failed after \(ContinuousClock.now - started)")
        }
    }

    /// A read that blocks on the server has a connection of its own: the shared one keeps answering.
    @Test func aBlockingReadDoesNotHoldUpOtherCommands() async throws {
        var endpoint = try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!]))
        endpoint.poolSize = 1
        let client = try RedisClient(endpoint)
        let stream = "test:block:\(UUID())"
        let answered = Atomic<Bool>(false)
        // From the start of a stream that does not exist yet: it blocks until the entry below is added.
        let blocked = Task {
            defer { answered.store(true, ordering: .releasing) }
            return try await client.command(
                bytes: ["XREAD", "BLOCK", "20000", "STREAMS", stream, "0-0"].map { Array($0.utf8) }, timeout: .seconds(25))
        }
        try await Task.sleep(for: .milliseconds(200))
        for _ in 0..<20 { #expect(try await client.command("PING") == .status("PONG")) }
        let readEnded = answered.load(ordering: .acquiring)
        #expect(!readEnded, "the pings were answered while the read still blocked")
        _ = try await client.command("XADD", stream, "*", "field", "value").checked()
        #expect(try await blocked.value.elements.count == 1, "the read returned the entry added after it began")
        _ = try await client.command("DEL", stream)
    }

    /// Scripts go by SHA: after the server forgot them (SCRIPT FLUSH, as after a restart) the
    /// cache loads them again by itself, and never sends a script's source with EVAL.
    @Test func scriptsAreCalledBySHAAndReloadedWhenTheServerLacksThem() async throws {
        let client = try Self.client()
        let cache = RedisCache(client: client)
        let before = try await Self.commandCalls(client)
        _ = try await client.command("SCRIPT", "FLUSH")
        try await cache.put("test:script:\(UUID())", value: Array("v".utf8), order: 1, ttl: .seconds(60))
        let counted = try await cache.increment("test:script:counter:\(UUID())", window: .seconds(60))
        #expect(counted.count == 1)
        let after = try await Self.commandCalls(client)
        #expect(after["evalsha", default: 0] - before["evalsha", default: 0] >= 2)
        #expect(after["eval", default: 0] == before["eval", default: 0], "no script went by source")
        #expect(after["script|load", default: 0] > before["script|load", default: 0], "the flushed scripts were loaded again")
    }

    /// Calls per command, from `INFO commandstats` (`cmdstat_evalsha:calls=3,...`).
    static func commandCalls(_ client: RedisClient) async throws -> [String: Int] {
        let text = try await client.command("INFO", "commandstats").string ?? ""
        var calls: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            let parts = line.dropFirst("cmdstat_".count).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let field = parts[1].split(separator: ",").first, field.hasPrefix("calls=") else { continue }
            calls[String(parts[0])] = Int(field.dropFirst("calls=".count))
        }
        return calls
    }
}

@Suite(
    "Redis over TLS (rediss://)",
    .enabled(if: TestServers.redisTLSURL != nil, "needs SOMA_TEST_REDIS_TLS_URL: run `eval \"$(scripts/servers.sh start)\"` first"))
struct RedisTLSTests {
    static func configuration(caFile: String?) -> BackendConfiguration {
        BackendConfiguration(["REDIS_URL": TestServers.redisTLSURL!].merging(caFile.map { ["REDIS_TLS_CA_FILE": $0] } ?? [:]) { $1 })
    }

    @Test(arguments: CacheConformance.checks)
    func conformance(_ check: CacheConformance.Check) async throws {
        try await check.run(RedisCache(client: try RedisClient(try RedisEndpoint(Self.configuration(caFile: TestServers.redisTLSCA)))))
    }

    @Test func aCertificateNobodyTrustsIsRefused() async throws {
        let client = try RedisClient(try RedisEndpoint(Self.configuration(caFile: nil)))
        await #expect {
            _ = try await client.command("PING")
        } throws: { error in
            "\(error)".lowercased().contains("certificate")
        }
    }

    @Test func thePlainPortIsNotTheTLSPort() async throws {
        // The TLS client against the plain port fails; the plain client against the TLS port too.
        var endpoint = try RedisEndpoint(Self.configuration(caFile: TestServers.redisTLSCA))
        let plain = try RedisEndpoint(BackendConfiguration(["REDIS_URL": TestServers.redisURL!]))
        endpoint.port = plain.port
        endpoint.timeout = .milliseconds(500)
        await #expect(throws: RedisError.self) { try await RedisClient(endpoint).command("PING") }
    }
}
