import Foundation
import SomaCore
import Synchronization

/// An in-memory event log with consumer groups. Each group reads the whole log from the start;
/// a delivery not acknowledged within `redeliveryAfter` (or rejected) is delivered again. Volatile:
/// the relay leaves an event in the outbox until every group has acknowledged it.
public final class InProcessEventBus: VolatileEventBus {
    struct InFlight {
        var deliveredAt: ContinuousClock.Instant
        var attempt: Int
    }

    struct Group {
        var nextOffset: Int
        var inFlight: [Int: InFlight] = [:]
    }

    struct State {
        var deadLetters: [(event: MemoryEvent, reason: String)] = []
        var base = 0  // offset of log[0]; entries below every group's position are trimmed
        var log: [MemoryEvent] = []
        var groups: [String: Group] = [:]

        /// Offsets below this one are acknowledged by every group; nil without groups.
        var acknowledgedBelow: Int? {
            groups.values.map { group in min(group.nextOffset, group.inFlight.keys.min() ?? group.nextOffset) }.min()
        }

        mutating func trim() {
            let needed = acknowledgedBelow ?? base
            let drop = needed - base
            guard drop > 1024 else { return }
            log.removeFirst(drop)
            base = needed
        }
    }

    let redeliveryAfter: Duration
    fileprivate let state = Mutex(State())
    private let clock = ContinuousClock()

    public init(redeliveryAfter: Duration = .seconds(30)) {
        self.redeliveryAfter = redeliveryAfter
    }

    public func publish(_ events: [MemoryEvent]) async throws {
        _ = try await publishTracked(events)
    }

    public func publishTracked(_ events: [MemoryEvent]) async throws -> Range<Int> {
        state.withLock { state in
            let first = state.base + state.log.count
            state.log.append(contentsOf: events)
            return first..<(first + events.count)
        }
    }

    public func acknowledgedBelow() -> Int? {
        state.withLock { $0.acknowledgedBelow }
    }

    public func subscribe(group: String, consumer: String) async throws -> any EventSubscription {
        state.withLock { state in
            if state.groups[group] == nil { state.groups[group] = Group(nextOffset: state.base) }
        }
        return Subscription(bus: self, group: group)
    }

    public func isHealthy() async -> Bool { true }

    /// Events set aside after failing every retry, with the reason, oldest first.
    public var deadLetters: [(event: MemoryEvent, reason: String)] { state.withLock { $0.deadLetters } }

    /// The next delivery for a group now, if any: an overdue in-flight one first, then the next new one.
    func take(group name: String) -> EventDelivery? {
        let now = clock.now
        return state.withLock { state in
            guard var group = state.groups[name] else { return nil }
            defer { state.groups[name] = group }
            if let overdue = group.inFlight.filter({ $0.value.deliveredAt.advanced(by: redeliveryAfter) <= now }).keys.min() {
                let attempt = group.inFlight[overdue]!.attempt + 1
                group.inFlight[overdue] = InFlight(deliveredAt: now, attempt: attempt)
                return EventDelivery(event: state.log[overdue - state.base], receipt: String(overdue), attempt: attempt)
            }
            guard group.nextOffset < state.base + state.log.count else { return nil }
            let offset = group.nextOffset
            group.nextOffset += 1
            group.inFlight[offset] = InFlight(deliveredAt: now, attempt: 1)
            return EventDelivery(event: state.log[offset - state.base], receipt: String(offset), attempt: 1)
        }
    }

    func settle(group name: String, receipt: String, redeliver: Bool) {
        guard let offset = Int(receipt) else { return }
        state.withLock { state in
            if redeliver {
                state.groups[name]?.inFlight[offset]?.deliveredAt = clock.now.advanced(by: .zero - redeliveryAfter)
            } else {
                state.groups[name]?.inFlight[offset] = nil
                state.trim()
            }
        }
    }

    struct Subscription: EventSubscription {
        let bus: InProcessEventBus
        let group: String

        func next(timeout: Duration) async throws -> EventDelivery? {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            while true {
                if let delivery = bus.take(group: group) { return delivery }
                guard ContinuousClock.now < deadline else { return nil }
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        func acknowledge(_ delivery: EventDelivery) async throws {
            bus.settle(group: group, receipt: delivery.receipt, redeliver: false)
        }

        func reject(_ delivery: EventDelivery) async throws {
            bus.settle(group: group, receipt: delivery.receipt, redeliver: true)
        }

        func deadLetter(_ delivery: EventDelivery, reason: String) async throws {
            bus.state.withLock { $0.deadLetters.append((delivery.event, reason)) }
            bus.settle(group: group, receipt: delivery.receipt, redeliver: false)
        }
    }
}
