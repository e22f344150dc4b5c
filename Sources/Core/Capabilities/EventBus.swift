import Foundation

/// Carries memory events from the API to consumers, at least once.
public protocol EventBus: Sendable {
    func publish(_ events: [MemoryEvent]) async throws
    /// Joins a consumer group. Members of one group share the deliveries; each group sees every event.
    func subscribe(group: String, consumer: String) async throws -> any EventSubscription
    func isHealthy() async -> Bool
    /// Itself when its log lives in this process's memory (`VolatileEventBus`): the relay then keeps
    /// events in the outbox until every reader acknowledged them. nil for a durable bus.
    var volatileLog: (any VolatileEventBus)? { get }
}

extension EventBus {
    public var volatileLog: (any VolatileEventBus)? { nil }
}

extension VolatileEventBus {
    public var volatileLog: (any VolatileEventBus)? { self }
}

/// A bus whose log lives in this process's memory, so what it holds is lost if the process dies.
/// The relay leaves such events in the outbox until every reader has acknowledged them.
public protocol VolatileEventBus: EventBus {
    /// Publishes, returning the log offsets the events took.
    func publishTracked(_ events: [MemoryEvent]) async throws -> Range<Int>
    /// Offsets below this one are acknowledged by every reader; nil while nobody reads.
    func acknowledgedBelow() -> Int?
}

public protocol EventSubscription: Sendable {
    /// The next delivery, or nil when none arrives within `timeout`. A delivery that is not
    /// acknowledged is delivered again (to this or another member of the group).
    func next(timeout: Duration) async throws -> EventDelivery?
    /// Marks a delivery processed; it is not delivered again.
    func acknowledge(_ delivery: EventDelivery) async throws
    /// Marks deliveries processed, in as few round trips as the bus allows.
    func acknowledge(_ deliveries: [EventDelivery]) async throws
    /// Gives a delivery back at once, for redelivery.
    func reject(_ delivery: EventDelivery) async throws
    /// Gives deliveries back at once; none of them is skipped on a bus that keeps positions
    /// rather than single deliveries (a Kafka partition restarts from the earliest of them).
    func reject(_ deliveries: [EventDelivery]) async throws
    /// Sets a delivery aside for good (it failed every retry), keeping it with `reason` where an
    /// operator can find it; it is not delivered again.
    func deadLetter(_ delivery: EventDelivery, reason: String) async throws
    /// Events this member has yet to read, where the bus can tell.
    func lag() async -> Int?
    /// Leaves the group, so others take over its share at once.
    func close() async
}

extension EventSubscription {
    public func acknowledge(_ deliveries: [EventDelivery]) async throws {
        for delivery in deliveries { try await acknowledge(delivery) }
    }

    public func reject(_ deliveries: [EventDelivery]) async throws {
        for delivery in deliveries { try await reject(delivery) }
    }

    /// Up to `limit` deliveries: waits up to `timeout` for the first, then takes only what is
    /// already there, so a batch never waits for a full one.
    public func nextBatch(_ limit: Int, timeout: Duration) async throws -> [EventDelivery] {
        guard let first = try await next(timeout: timeout) else { return [] }
        var batch = [first]
        while batch.count < limit, let more = try await next(timeout: .milliseconds(1)) { batch.append(more) }
        return batch
    }

    public func lag() async -> Int? { nil }
    public func close() async {}
}

public struct EventDelivery: Sendable, Equatable {
    public var event: MemoryEvent
    /// Backend-specific position (offset, stream id) used to acknowledge.
    public var receipt: String
    /// How many times this event was delivered to the group, counting this one.
    public var attempt: Int

    public init(event: MemoryEvent, receipt: String, attempt: Int) {
        self.event = event
        self.receipt = receipt
        self.attempt = attempt
    }
}
