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

    /// Reads deliveries of `namespace` until `count` arrived or `within` passed (a partitioned
    /// bus may first need seconds to give a new group member its partitions).
    static func receive(
        _ subscription: any EventSubscription, _ count: Int, namespace: String, acknowledge: Bool = true, within: Duration = .seconds(20)
    ) async throws -> [EventDelivery] {
        var received: [EventDelivery] = []
        let deadline = ContinuousClock.now + within
        while received.count < count, ContinuousClock.now < deadline {
            guard let delivery = try await subscription.next(timeout: .milliseconds(500)) else { continue }
            if acknowledge || delivery.event.namespace != namespace { try await subscription.acknowledge(delivery) }
            if delivery.event.namespace == namespace { received.append(delivery) }
        }
        return received
    }

    /// Events of three memories, each written three times: the order that counts is per memory.
    static func histories(namespace: String) -> [MemoryEvent] {
        let ids = (0..<3).map { _ in UUID() }
        return (1...3).flatMap { version in
            ids.map { id in
                MemoryEvent(
                    kind: version == 1 ? .created : .updated, id: id, namespace: namespace, coordinate: [1], type: .episodic,
                    timestamp: Fixture.now, version: version, payload: ["v": .int(Int64(version))])
            }
        }
    }

    public static let checks: [Check] = [
        Check("a group receives every event, in order per memory") { bus in
            let ns = Fixture.namespace()
            let sent = histories(namespace: ns)
            let subscription = try await bus.subscribe(group: "g-\(ns)", consumer: "c1")
            try await bus.publish(sent)
            let received = try await receive(subscription, sent.count, namespace: ns)
            #expect(Set(received.map(\.event.eventID)) == Set(sent.map(\.eventID)))
            for id in Set(sent.map(\.id)) {
                #expect(received.filter { $0.event.id == id }.map(\.event.version) == [1, 2, 3], "memory \(id)")
            }
            #expect(received.allSatisfy { $0.attempt == 1 })
        },
        Check("a dead-lettered event is not delivered again; the rest flow") { bus in
            let ns = Fixture.namespace()
            let subscription = try await bus.subscribe(group: "g-\(ns)", consumer: "c1")
            let sent = events(3, namespace: ns)
            try await bus.publish(sent)
            let first = try #require(try await receive(subscription, 1, namespace: ns, acknowledge: false).first)
            try await subscription.deadLetter(first, reason: "poison")
            let rest = try await receive(subscription, 2, namespace: ns, within: .seconds(8))
            #expect(Set(rest.map(\.event.eventID)) == Set(sent.map(\.eventID)).subtracting([first.event.eventID]))
        },
        Check("acknowledged events are not delivered again") { bus in
            let ns = Fixture.namespace()
            let subscription = try await bus.subscribe(group: "g-\(ns)", consumer: "c1")
            try await bus.publish(events(2, namespace: ns))
            _ = try await receive(subscription, 2, namespace: ns)
            let more = try await receive(subscription, 1, namespace: ns, within: .seconds(1))
            #expect(more.isEmpty)
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
            #expect(Set(try await receive(a, 3, namespace: ns).map(\.event.eventID)) == Set(sent.map(\.eventID)))
            #expect(Set(try await receive(b, 3, namespace: ns).map(\.event.eventID)) == Set(sent.map(\.eventID)))
        },
    ]
}
