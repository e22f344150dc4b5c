import SomaCore

/// A cache and a bus that do nothing, for engines in tests about storage and vectors.
public struct NoCache: MemoryCache {
    public init() {}
    public func get(_ key: String) async throws -> [UInt8]? { nil }
    public func put(_ key: String, value: [UInt8]?, order: Int64, ttl: Duration) async throws {}
    public func delete(_ keys: [String]) async throws {}
    public func isHealthy() async -> Bool { true }
}

public struct NoBus: EventBus {
    struct Closed: Error {}
    public init() {}
    public func publish(_ events: [MemoryEvent]) async throws {}
    public func subscribe(group: String, consumer: String) async throws -> any EventSubscription { throw Closed() }
    public func isHealthy() async -> Bool { true }
}
