import Foundation
import SomaCore
import Testing

/// The behaviour every `MemoryCache` must show.
public enum CacheConformance {
    public typealias Check = ConformanceCheck<any MemoryCache>

    public static let checks: [Check] = [
        Check("set, get, delete") { cache in
            let key = "test:\(UUID())"
            #expect(try await cache.get(key) == nil)
            try await cache.set(key, value: Array("hello".utf8), ttl: .seconds(60))
            #expect(try await cache.get(key) == Array("hello".utf8))
            try await cache.set(key, value: Array("again".utf8), ttl: .seconds(60))
            #expect(try await cache.get(key) == Array("again".utf8))
            try await cache.delete([key, "test:absent"])
            #expect(try await cache.get(key) == nil)
        },
        Check("entries expire after their TTL") { cache in
            let key = "test:\(UUID())"
            try await cache.set(key, value: [1, 2, 3], ttl: .milliseconds(200))
            #expect(try await cache.get(key) == [1, 2, 3])
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await cache.get(key) == nil)
        },
        Check("counter counts within a window and starts anew after it") { cache in
            let key = "test:counter:\(UUID())"
            let first = try await cache.increment(key, window: .seconds(1))
            #expect(first.count == 1)
            #expect(first.resetsIn > .zero && first.resetsIn <= .seconds(1))
            #expect(try await cache.increment(key, window: .seconds(1)).count == 2)
            #expect(try await cache.increment(key, window: .seconds(1)).count == 3)
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await cache.increment(key, window: .seconds(1)).count == 1)
        },
        Check("counters are independent") { cache in
            let a = "test:a:\(UUID())", b = "test:b:\(UUID())"
            _ = try await cache.increment(a, window: .seconds(30))
            _ = try await cache.increment(a, window: .seconds(30))
            #expect(try await cache.increment(b, window: .seconds(30)).count == 1)
        },
    ]
}
