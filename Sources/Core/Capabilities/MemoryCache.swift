import Foundation

/// A shared cache of encoded records; a cache shared between processes may also declare the
/// counters rate limits need (`sharedCounters`).
///
/// Entries carry an `order` (for records, their update time in microseconds) so that a slow
/// read-through fill can never put back a record older than a write that already invalidated it:
/// a write leaves a tombstone at the new record's order, a delete one just past the deleted
/// record's, and `put` keeps whichever entry is newer.
public protocol MemoryCache: Sendable {
    /// The value under `key`; nil when absent, expired or a tombstone.
    func get(_ key: String) async throws -> [UInt8]?
    /// Stores `value` (nil: a tombstone) unless the key holds a newer entry. It replaces an entry of
    /// lower order, and a tombstone of equal order when storing a value.
    func put(_ key: String, value: [UInt8]?, order: Int64, ttl: Duration) async throws
    func get(_ keys: [String]) async throws -> [[UInt8]?]
    func put(_ entries: [CacheEntry], ttl: Duration) async throws
    func delete(_ keys: [String]) async throws
    func isHealthy() async -> Bool
    /// Its counters when every process using the cache sees the same ones (Redis): rate limits
    /// then hold across replicas. nil: each process counts its own requests (`WindowCounters`).
    var sharedCounters: (any SharedCounters)? { get }
}

/// Atomic fixed-window counters shared between processes, for rate limits.
public protocol SharedCounters: Sendable {
    /// Adds one to the counter `key`, creating it with the given lifetime; the window is fixed from
    /// the first increment. Returns the new count and the time left until the counter expires.
    func increment(_ key: String, window: Duration) async throws -> CounterValue
}

/// One entry of a batched `put`.
public struct CacheEntry: Sendable {
    public var key: String
    /// nil: a tombstone.
    public var value: [UInt8]?
    public var order: Int64

    public init(key: String, value: [UInt8]?, order: Int64) {
        self.key = key
        self.value = value
        self.order = order
    }
}

extension MemoryCache {
    public var sharedCounters: (any SharedCounters)? { nil }

    /// Values for several keys (nil where absent); a networked cache answers in one round trip.
    public func get(_ keys: [String]) async throws -> [[UInt8]?] {
        var values: [[UInt8]?] = []
        for key in keys { values.append(try await get(key)) }
        return values
    }

    /// Several `put`s; a networked cache sends them in one round trip.
    public func put(_ entries: [CacheEntry], ttl: Duration) async throws {
        for entry in entries { try await put(entry.key, value: entry.value, order: entry.order, ttl: ttl) }
    }
}

/// The ordering rule every cache applies in `put`.
public enum CacheOrdering {
    public static func replaces(newOrder: Int64, newIsValue: Bool, existingOrder: Int64, existingIsValue: Bool) -> Bool {
        existingOrder < newOrder || (existingOrder == newOrder && newIsValue && !existingIsValue)
    }
}

public struct CounterValue: Sendable, Equatable {
    public var count: Int
    public var resetsIn: Duration

    public init(count: Int, resetsIn: Duration) {
        self.count = count
        self.resetsIn = resetsIn
    }
}
