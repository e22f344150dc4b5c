import Foundation
import SomaCore
import Synchronization

/// An LRU cache with per-entry expiry, in process memory. Its process counts rate limits itself.
public final class InProcessCache: MemoryCache {
    private struct Entry {
        /// nil: a tombstone.
        var bytes: [UInt8]?
        var order: Int64
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: LRUCache<Entry>
    }

    private let state: Mutex<State>
    private let clock = ContinuousClock()

    public init(capacity: Int = 10_000) {
        state = Mutex(State(entries: LRUCache(capacity: capacity)))
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        let now = clock.now
        return state.withLock { state in
            guard let entry = state.entries.get(key) else { return nil }
            guard entry.expires > now else {
                state.entries.remove(key)
                return nil
            }
            return entry.bytes
        }
    }

    public func put(_ key: String, value: [UInt8]?, order: Int64, ttl: Duration) async throws {
        let now = clock.now
        state.withLock { state in
            if let existing = state.entries.get(key), existing.expires > now,
                !CacheOrdering.replaces(
                    newOrder: order, newIsValue: value != nil, existingOrder: existing.order, existingIsValue: existing.bytes != nil)
            {
                return
            }
            _ = state.entries.set(key, Entry(bytes: value, order: order, expires: now.advanced(by: ttl)))
        }
    }

    public func delete(_ keys: [String]) async throws {
        state.withLock { state in for key in keys { state.entries.remove(key) } }
    }

    public func isHealthy() async -> Bool { true }
}
