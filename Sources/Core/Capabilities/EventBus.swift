import Foundation

/// Carries memory events from the API to consumers, at least once.
public protocol EventBus: Sendable {
    func publish(_ events: [MemoryEvent]) async throws
    /// Joins a consumer group. Members of one group share the deliveries; each group sees every event.
    func subscribe(group: String, consumer: String) async throws -> any EventSubscription
    func isHealthy() async -> Bool
}

public protocol EventSubscription: Sendable {
    /// The next delivery, or nil when none arrives within `timeout`. A delivery that is not
    /// acknowledged is delivered again (to this or another member of the group).
    func next(timeout: Duration) async throws -> EventDelivery?
    /// Marks a delivery processed; it is not delivered again.
    func acknowledge(_ delivery: EventDelivery) async throws
    /// Gives a delivery back at once, for redelivery.
    func reject(_ delivery: EventDelivery) async throws
    /// Sets a delivery aside for good (it failed every retry), keeping it with `reason` where an
    /// operator can find it; it is not delivered again.
    func deadLetter(_ delivery: EventDelivery, reason: String) async throws
    /// Events this member has yet to read, where the bus can tell.
    func lag() async -> Int?
    /// Leaves the group, so others take over its share at once.
    func close() async
}

extension EventSubscription {
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
