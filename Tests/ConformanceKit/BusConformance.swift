import Foundation
import SomaCore
import Testing

/// The behaviour every `EventBus` must show: at-least-once delivery per consumer group.
public enum BusConformance {
    public typealias Check = ConformanceCheck<any EventBus>

    static func events(_ count: Int, namespace: String) -> [MemoryEvent] {
        (0..<count).map { index in
            MemoryEvent(
                kind: .created, id: UUID(), namespace: namespace, coordinate: [Double(index)], type: .episodic,
                timestamp: Fixture.now, version: 1, payload: ["i": .int(Int64(index))])
        }
    }

    /// Reads deliveries of `namespace` until `count` arrived or nothing comes for a while.
    static func receive(_ subscription: any EventSubscription, _ count: Int, namespace: String, acknowledge: Bool = true) async throws -> [EventDelivery] {
        var received: [EventDelivery] = []
        while received.count < count, let delivery = try await subscription.next(timeout: .seconds(5)) {
            if acknowledge { try await subscription.acknowledge(delivery) }
            if delivery.event.namespace == namespace { received.append(delivery) }
        }
        return received
    }

    public static let checks: [Check] = [
        Check("a group receives every event in order") { bus in
            let ns = Fixture.namespace()
            let sent = events(5, namespace: ns)
            let subscription = try await bus.subscribe(group: "g-\(ns)", consumer: "c1")
            try await bus.publish(sent)
            let received = try await receive(subscription, 5, namespace: ns)
            #expect(received.map(\.event) == sent)
            #expect(received.allSatisfy { $0.attempt == 1 })
        },
        Check("acknowledged events are not delivered again") { bus in
            let ns = Fixture.namespace()
            let subscription = try await bus.subscribe(group: "g-\(ns)", consumer: "c1")
            try await bus.publish(events(2, namespace: ns))
            _ = try await receive(subscription, 2, namespace: ns)
            let more = try await subscription.next(timeout: .milliseconds(300))
            #expect(more == nil || more?.event.namespace != ns)
        },
        Check("a rejected event is delivered again") { bus in
            let ns = Fixture.namespace()
            let subscription = try await bus.subscribe(group: "g-\(ns)", consumer: "c1")
            let sent = events(1, namespace: ns)
            try await bus.publish(sent)
            let first = try #require(try await receive(subscription, 1, namespace: ns, acknowledge: false).first)
            try await subscription.reject(first)
            let again = try #require(try await receive(subscription, 1, namespace: ns).first)
            #expect(again.event == sent[0])
            #expect(again.attempt >= 2)
        },
        Check("every group sees every event") { bus in
            let ns = Fixture.namespace()
            let a = try await bus.subscribe(group: "a-\(ns)", consumer: "c1")
            let b = try await bus.subscribe(group: "b-\(ns)", consumer: "c1")
            let sent = events(3, namespace: ns)
            try await bus.publish(sent)
            #expect(try await receive(a, 3, namespace: ns).map(\.event) == sent)
            #expect(try await receive(b, 3, namespace: ns).map(\.event) == sent)
        },
    ]
}
