import Foundation
import SomaCore
import Synchronization

/// Memory events over a Redis Stream (`SOMA_BUS=redis`).
///
/// Publishing is XADD with an approximate length cap (`REDIS_STREAM_MAX_LENGTH`), one round trip
/// per batch. Each consumer group reads with XREADGROUP and acknowledges with XACK after
/// processing. A delivery left pending by a consumer that died is taken over with XAUTOCLAIM once
/// it has been idle for `REDIS_STREAM_CLAIM_IDLE_MS`. A new group starts at the stream's oldest
/// retained event, so a consumer deployed after the API still sees what was written before it.
public final class RedisStreamBus: EventBus {
    public struct Settings: Sendable {
        public var key = "soma:memory.events"
        public var maxLength = 1_000_000
        public var claimIdle: Duration = .seconds(30)

        static let keySetting = Setting<String>("REDIS_STREAM_KEY", default: Settings().key, "The Redis Streams bus's stream")
        // At least 1000, or unconsumed events are trimmed.
        static let maxLengthSetting = Setting<Int>(
            "REDIS_STREAM_MAX_LENGTH", default: Settings().maxLength, in: 1000...Int(Int32.max), "The stream's approximate length cap")
        static let claimIdleSetting = Setting<Int>(
            "REDIS_STREAM_CLAIM_IDLE_MS", default: 30_000, in: 1...86_400_000,
            "Idle time after which another consumer takes over a dead one's deliveries")
        static let declared: [any DeclaredSetting] = [keySetting, maxLengthSetting, claimIdleSetting]

        public init() {}

        public init(_ configuration: BackendConfiguration) throws {
            key = try configuration.value(Self.keySetting)
            maxLength = try configuration.value(Self.maxLengthSetting)
            claimIdle = .milliseconds(try configuration.value(Self.claimIdleSetting))
        }
    }

    let client: RedisClient
    let settings: Settings

    public init(client: RedisClient, settings: Settings = Settings()) {
        self.client = client
        self.settings = settings
    }

    public func publish(_ events: [MemoryEvent]) async throws {
        guard !events.isEmpty else { return }
        let commands = events.map { event -> [[UInt8]] in
            ["XADD", settings.key, "MAXLEN", "~", String(settings.maxLength), "*", "event"].map { Array($0.utf8) } + [event.json]
        }
        for reply in try await client.pipeline(commands) { _ = try reply.checked() }
    }

    public func subscribe(group: String, consumer: String) async throws -> any EventSubscription {
        let created = try await client.command("XGROUP", "CREATE", settings.key, group, "0", "MKSTREAM")
        if case .error(let message) = created, !message.hasPrefix("BUSYGROUP") { throw RedisError.command(message) }
        return RedisStreamSubscription(bus: self, group: group, consumer: consumer)
    }

    public func isHealthy() async -> Bool { await client.isHealthy() }
}

final class RedisStreamSubscription: EventSubscription {
    private let bus: RedisStreamBus
    private let group: String
    private let consumer: String

    private struct State {
        var ready: [EventDelivery] = []
        /// This consumer's own pending deliveries (from an earlier life) are read back once.
        var recoveredOwn = false
        var lastClaim: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    init(bus: RedisStreamBus, group: String, consumer: String) {
        self.bus = bus
        self.group = group
        self.consumer = consumer
    }

    private var key: String { bus.settings.key }

    func next(timeout: Duration) async throws -> EventDelivery? {
        if let delivery = state.withLock({ $0.ready.isEmpty ? nil : $0.ready.removeFirst() }) { return delivery }
        let recoverOwn = state.withLock { state in
            defer { state.recoveredOwn = true }
            return !state.recoveredOwn
        }
        if recoverOwn {
            try await fill(try await read(from: "0", block: nil), attemptsFromPending: true)
        }
        if try await claimAbandoned() == 0, state.withLock({ $0.ready.isEmpty }) {
            try await fill(try await read(from: ">", block: timeout), attemptsFromPending: false)
        }
        return state.withLock { $0.ready.isEmpty ? nil : $0.ready.removeFirst() }
    }

    func acknowledge(_ delivery: EventDelivery) async throws {
        _ = try await bus.client.command("XACK", key, group, delivery.receipt).checked()
    }

    /// Adds the event to `<stream>.dlq` with the reason, then acknowledges it (in one round trip).
    func deadLetter(_ delivery: EventDelivery, reason: String) async throws {
        let body = Array(try SomaJSON.encoder().encode(delivery.event))
        let add =
            ["XADD", key + ".dlq", "MAXLEN", "~", String(bus.settings.maxLength), "*", "error", reason, "source_id", delivery.receipt, "event"]
            .map { Array($0.utf8) } + [body]
        let ack = ["XACK", key, group, delivery.receipt].map { Array($0.utf8) }
        for reply in try await bus.client.pipeline([add, ack]) { _ = try reply.checked() }
    }

    /// Takes the delivery back at once (XCLAIM counts the new attempt) and hands it out next.
    func reject(_ delivery: EventDelivery) async throws {
        _ = try await bus.client.command("XCLAIM", key, group, consumer, "0", delivery.receipt, "JUSTID").checked()
        var again = delivery
        again.attempt += 1
        state.withLock { $0.ready.insert(again, at: 0) }
    }

    private func read(from position: String, block: Duration?) async throws -> [(String, [UInt8])] {
        var words = ["XREADGROUP", "GROUP", group, consumer, "COUNT", "64"]
        if let block { words += ["BLOCK", String(max(1, block.wholeMilliseconds))] }
        words += ["STREAMS", key, position]
        // The socket must outwait the server-side block.
        let reply = try await bus.client.command(bytes: words.map { Array($0.utf8) }, timeout: block.map { $0 + bus.client.endpoint.timeout })
        guard case .array(let streams) = try reply.checked(), let stream = streams.first else { return [] }
        return Self.entries(stream.elements.dropFirst().first?.elements ?? [])
    }

    /// XAUTOCLAIM: deliveries idle past the claim time (their consumer died) move to this one.
    private func claimAbandoned() async throws -> Int {
        let now = ContinuousClock.now
        let due = state.withLock { state in
            guard let last = state.lastClaim, last.duration(to: now) < .seconds(1) else {
                state.lastClaim = now
                return true
            }
            return false
        }
        guard due else { return 0 }
        let idle = String(bus.settings.claimIdle.wholeMilliseconds)
        let reply = try await bus.client.command("XAUTOCLAIM", key, group, consumer, idle, "0-0", "COUNT", "64").checked()
        let claimed = Self.entries(reply.elements.dropFirst().first?.elements ?? [])
        try await fill(claimed, attemptsFromPending: true)
        return claimed.count
    }

    /// Decodes entries into deliveries; for re-deliveries the attempt comes from XPENDING's count.
    private func fill(_ entries: [(String, [UInt8])], attemptsFromPending: Bool) async throws {
        guard !entries.isEmpty else { return }
        var attempts: [String: Int] = [:]
        if attemptsFromPending {
            let pending = try await bus.client.command(
                "XPENDING", key, group, entries[0].0, entries[entries.count - 1].0, String(entries.count + 64), consumer
            ).checked()
            for row in pending.elements {
                let fields = row.elements
                if fields.count >= 4, let id = fields[0].string, let count = fields[3].integer { attempts[id] = Int(count) }
            }
        }
        var deliveries: [EventDelivery] = []
        for (id, body) in entries {
            guard let event = try? MemoryEvent(acceptingOriginal: body) else {
                // Not an event this service wrote: acknowledge it away rather than loop on it.
                _ = try? await bus.client.command("XACK", key, group, id)
                continue
            }
            deliveries.append(EventDelivery(event: event, receipt: id, attempt: attempts[id] ?? 1))
        }
        state.withLock { $0.ready.append(contentsOf: deliveries) }
    }

    /// `[[id, [field, value, ...]], ...]` -> (id, value of the `event` field); trimmed entries are skipped.
    static func entries(_ rows: [RedisReply]) -> [(String, [UInt8])] {
        rows.compactMap { row in
            let parts = row.elements
            guard parts.count == 2, let id = parts[0].string else { return nil }
            let fields = parts[1].elements
            var index = 0
            while index + 1 < fields.count {
                if fields[index].string == "event", let value = fields[index + 1].bytes { return (id, value) }
                index += 2
            }
            return nil
        }
    }
}
