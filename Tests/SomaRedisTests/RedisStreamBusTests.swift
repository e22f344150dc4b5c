import ConformanceKit
import Foundation
import SomaCore
import SomaRedis
import Testing

@Suite("Redis Streams bus against a real redis-server", .enabled(if: TestServers.redisURL != nil, Comment(rawValue: TestServers.redisMissing)))
struct RedisStreamBusTests {
    /// A stream per test, so groups starting at the oldest event do not wade through other tests' events.
    static func bus(claimIdle: Duration = .seconds(30)) throws -> RedisStreamBus {
        var settings = RedisStreamBus.Settings()
        settings.key = "test:stream:\(UUID().uuidString.prefix(8))"
        settings.claimIdle = claimIdle
        return RedisStreamBus(client: try RedisCacheTests.client(), settings: settings)
    }

    @Test(arguments: BusConformance.checks)
    func conformance(_ check: BusConformance.Check) async throws {
        try await check.run(try Self.bus())
    }

    @Test func deliveriesOfADeadConsumerAreClaimedByAnother() async throws {
        let bus = try Self.bus(claimIdle: .milliseconds(300))
        let ns = Fixture.namespace()
        let dying = try await bus.subscribe(group: "workers", consumer: "dying")
        let event = MemoryEvent(
            kind: .created, id: UUID(), namespace: ns, coordinate: [1], type: .episodic, timestamp: Fixture.now, version: 1, payload: [:])
        try await bus.publish([event])
        let taken = try #require(try await dying.next(timeout: .seconds(2)))
        #expect(taken.event == event)
        // "dying" never acknowledges; after the idle time another member takes the delivery over.
        let survivor = try await bus.subscribe(group: "workers", consumer: "survivor")
        try await Task.sleep(for: .milliseconds(400))
        let claimed = try #require(try await survivor.next(timeout: .seconds(2)))
        #expect(claimed.event == event)
        #expect(claimed.attempt == 2)
        try await survivor.acknowledge(claimed)
        #expect(try await survivor.next(timeout: .milliseconds(300)) == nil)
    }
}
