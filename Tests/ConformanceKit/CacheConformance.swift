import Foundation
import SomaCore
import Testing

/// The behaviour every `MemoryCache` must show.
public enum CacheConformance {
    public typealias Check = ConformanceCheck<any MemoryCache>

    public static let checks: [Check] = [
        Check("put, get, delete") { cache in
            let key = "test:\(UUID())"
            #expect(try await cache.get(key) == nil)
            try await cache.put(key, value: Array("hello".utf8), order: 1, ttl: .seconds(60))
            #expect(try await cache.get(key) == Array("hello".utf8))
            try await cache.put(key, value: Array("again|with:separators".utf8), order: 2, ttl: .seconds(60))
            #expect(try await cache.get(key) == Array("again|with:separators".utf8))
            try await cache.delete([key, "test:absent"])
            #expect(try await cache.get(key) == nil)
        },
        Check("an older value never replaces a newer entry") { cache in
            let key = "test:\(UUID())"
            try await cache.put(key, value: [2], order: 20, ttl: .seconds(60))
            try await cache.put(key, value: [1], order: 10, ttl: .seconds(60))
            #expect(try await cache.get(key) == [2])
            try await cache.put(key, value: [9], order: 20, ttl: .seconds(60))
            #expect(try await cache.get(key) == [2], "an equal order keeps the first value")
        },
        Check("a tombstone hides older values and admits its own order") { cache in
            let key = "test:\(UUID())"
            try await cache.put(key, value: [1], order: 10, ttl: .seconds(60))
            try await cache.put(key, value: nil, order: 20, ttl: .seconds(60))
            #expect(try await cache.get(key) == nil)
            try await cache.put(key, value: [1], order: 10, ttl: .seconds(60))
            #expect(try await cache.get(key) == nil, "a fill from before the write stays out")
            try await cache.put(key, value: [2], order: 20, ttl: .seconds(60))
            #expect(try await cache.get(key) == [2], "the written record may be cached")
            try await cache.put(key, value: nil, order: 20, ttl: .seconds(60))
            #expect(try await cache.get(key) == [2], "a tombstone does not hide the value it was written for")
            try await cache.put(key, value: nil, order: 21, ttl: .seconds(60))
            try await cache.put(key, value: [2], order: 20, ttl: .seconds(60))
            #expect(try await cache.get(key) == nil, "a delete's tombstone hides the deleted record")
        },
        Check("entries expire after their TTL") { cache in
            let key = "test:\(UUID())"
            // 5 s: the read right after the write must land within the TTL on a loaded CI machine.
            try await cache.put(key, value: [1, 2, 3], order: 1, ttl: .seconds(5))
            #expect(try await cache.get(key) == [1, 2, 3])
            try await Task.sleep(for: .milliseconds(6500))
            #expect(try await cache.get(key) == nil)
        },
    ]

    /// For caches that declare `sharedCounters` (the rate limit then counts in them).
    public static let sharedCounterChecks: [Check] = [
        Check("shared counters count within a window and start anew after it") { cache in
            let counters = try #require(cache.sharedCounters, "runs for caches that declare shared counters")
            // Counting uses a long window so a loaded machine cannot cross its end between calls.
            let counted = "test:counter:\(UUID())"
            let first = try await counters.increment(counted, window: .seconds(30))
            #expect(first.count == 1)
            #expect(first.resetsIn > .zero && first.resetsIn <= .seconds(30))
            #expect(try await counters.increment(counted, window: .seconds(30)).count == 2)
            #expect(try await counters.increment(counted, window: .seconds(30)).count == 3)
            let short = "test:counter:\(UUID())"
            #expect(try await counters.increment(short, window: .seconds(1)).count == 1)
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await counters.increment(short, window: .seconds(1)).count == 1)
        },
        Check("shared counters are independent") { cache in
            let counters = try #require(cache.sharedCounters, "runs for caches that declare shared counters")
            let a = "test:a:\(UUID())", b = "test:b:\(UUID())"
            _ = try await counters.increment(a, window: .seconds(30))
            _ = try await counters.increment(a, window: .seconds(30))
            #expect(try await counters.increment(b, window: .seconds(30)).count == 1)
        },
    ]
}
