import Foundation
import SomaCore
import Synchronization

/// The record cache and rate-limit counters in Redis, shared by every replica.
///
/// An entry is stored as `generation|order|kind|bytes` (kind `v` value, `t` tombstone); a Lua script
/// (called by SHA) applies `CacheOrdering` atomically. Writes made while Redis was unreachable could not leave their
/// tombstones, so after any failure the client raises the shared generation before it uses the cache
/// again: every entry written before the outage then reads as a miss, and no replica serves a record
/// older than a write it did not see.
public final class RedisCache: MemoryCache, SharedCounters {
    /// Every replica on this Redis counts in the same keys.
    public var sharedCounters: (any SharedCounters)? { self }

    static let generationKey = "soma:cache:generation"

    private let client: RedisClient
    private let outageSeen = Atomic<Bool>(false)
    /// When a call last failed (uptime nanoseconds; 0: never): a cache whose calls fail is not ready
    /// even while it answers PING.
    private let lastFailure = Atomic<UInt64>(0)
    static let failureMemory: UInt64 = 5_000_000_000

    public init(client: RedisClient) {
        self.client = client
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        try await get([key])[0]
    }

    /// The generation and every key in one pipelined round trip.
    public func get(_ keys: [String]) async throws -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        let replies = try await run(([["GET", Self.generationKey]] + keys.map { ["GET", $0] }).map(Self.arguments))
        let generation = replies[0].bytes ?? Array("0".utf8)
        return replies.dropFirst().map { reply in
            guard let stored = reply.bytes, let entry = Entry(stored), entry.generation.elementsEqual(generation) else { return nil }
            return entry.value
        }
    }

    public func put(_ key: String, value: [UInt8]?, order: Int64, ttl: Duration) async throws {
        try await put([CacheEntry(key: key, value: value, order: order)], ttl: ttl)
    }

    /// Every entry through the ordering script, in one pipelined round trip.
    public func put(_ entries: [CacheEntry], ttl: Duration) async throws {
        guard !entries.isEmpty else { return }
        let milliseconds = String(Self.milliseconds(ttl))
        let commands = entries.map { entry -> [[UInt8]] in
            Self.putScript.call(
                keys: [entry.key, Self.generationKey],
                arguments: [String(entry.order), entry.value == nil ? "t" : "v", milliseconds].map { Array($0.utf8) } + [entry.value ?? []])
        }
        for reply in try await run(commands) { _ = try reply.checked() }
    }

    public func delete(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        _ = try await run([Self.arguments(["DEL"] + keys)])[0].checked()
    }

    public func increment(_ key: String, window: Duration) async throws -> CounterValue {
        let reply = try await run([Self.counterScript.call(keys: [key], arguments: [Array(String(Self.milliseconds(window)).utf8)])])[0].checked()
        let values = reply.elements.compactMap(\.integer)
        guard values.count == 2 else { throw RedisError.command("unexpected counter reply \(reply)") }
        return CounterValue(count: Int(values[0]), resetsIn: .milliseconds(values[1]))
    }

    public func isHealthy() async -> Bool {
        guard (try? await run([Self.arguments(["PING"])])[0]) == .status("PONG") else { return false }
        let failed = lastFailure.load(ordering: .acquiring)
        return failed == 0 || DispatchTime.now().uptimeNanoseconds - failed > Self.failureMemory
    }

    /// Runs commands, first raising the generation if an outage was seen since the last success.
    private func run(_ commands: [[[UInt8]]]) async throws -> [RedisReply] {
        var batch = commands
        let bump = outageSeen.load(ordering: .acquiring)
        if bump { batch.insert(Self.arguments(["INCR", Self.generationKey]), at: 0) }
        do {
            let replies = try await client.pipeline(batch, scripts: [Self.putScript, Self.counterScript])
            // An error answer (MOVED from a cluster node, OOM, a read-only replica) is a failed call too.
            if replies.contains(where: \.isError) { lastFailure.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing) }
            guard bump else { return replies }
            // A server still loading its data answers every command with an error: no bump yet.
            guard replies[0].integer != nil else { throw RedisError.unavailable("generation not raised: \(replies[0])") }
            outageSeen.store(false, ordering: .releasing)
            return Array(replies.dropFirst())
        } catch {
            outageSeen.store(true, ordering: .releasing)
            lastFailure.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing)
            throw error
        }
    }

    private static func arguments(_ words: [String]) -> [[UInt8]] { words.map { Array($0.utf8) } }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        max(1, duration.wholeMilliseconds)
    }

    private struct Entry {
        var generation: ArraySlice<UInt8>
        /// nil: a tombstone.
        var value: [UInt8]?

        init?(_ bytes: [UInt8]) {
            let bar = UInt8(ascii: "|")
            var fields: [Int] = []
            for (index, byte) in bytes.enumerated() where byte == bar {
                fields.append(index)
                if fields.count == 3 { break }
            }
            guard fields.count == 3 else { return nil }
            generation = bytes[..<fields[0]]
            let kind = bytes[fields[1] + 1]
            value = kind == UInt8(ascii: "v") ? Array(bytes[(fields[2] + 1)...]) : nil
        }
    }

    // KEYS: entry, generation. ARGV: order, kind, ttl ms, value.
    private static let putScript = RedisScript(
        """
        local generation = redis.call('GET', KEYS[2]) or '0'
        local current = redis.call('GET', KEYS[1])
        local order = tonumber(ARGV[1])
        if current then
          local a = string.find(current, '|', 1, true)
          local b = string.find(current, '|', a + 1, true)
          if string.sub(current, 1, a - 1) == generation then
            local have = tonumber(string.sub(current, a + 1, b - 1))
            local haveKind = string.sub(current, b + 1, b + 1)
            if not (have < order or (have == order and ARGV[2] == 'v' and haveKind == 't')) then return 0 end
          end
        end
        redis.call('SET', KEYS[1], generation .. '|' .. ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[4], 'PX', ARGV[3])
        return 1
        """)

    // KEYS: counter. ARGV: window ms. Returns {count, ms left}.
    private static let counterScript = RedisScript(
        """
        local count = redis.call('INCR', KEYS[1])
        local left = redis.call('PTTL', KEYS[1])
        if left < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          left = tonumber(ARGV[1])
        end
        return {count, left}
        """)
}
