import Foundation

/// A shared cache of encoded records, and the atomic counters rate limits need.
public protocol MemoryCache: Sendable {
    func get(_ key: String) async throws -> [UInt8]?
    func set(_ key: String, value: [UInt8], ttl: Duration) async throws
    func delete(_ keys: [String]) async throws
    /// Adds one to the counter `key`, creating it with the given lifetime; the window is fixed from
    /// the first increment. Returns the new count and the time left until the counter expires.
    func increment(_ key: String, window: Duration) async throws -> CounterValue
    func isHealthy() async -> Bool
}

public struct CounterValue: Sendable, Equatable {
    public var count: Int
    public var resetsIn: Duration

    public init(count: Int, resetsIn: Duration) {
        self.count = count
        self.resetsIn = resetsIn
    }
}
