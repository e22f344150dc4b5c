import Foundation
import Metrics
import SomaCore
import Synchronization

/// Memory events over Kafka (`SOMA_BUS=kafka`), through librdkafka.
///
/// Each event is one record on `KAFKA_MEMORY_EVENTS_TOPIC`, keyed by the memory id (all events of
/// one memory share a partition, hence their order), with `event_type`, `schema_version` and
/// `content-type` headers. Publishing waits for the brokers' acknowledgement of every record.
/// Consumers commit an offset only after the event was processed; a rejected event is read again
/// by moving the partition back to it; a dead-lettered one is copied to `<topic>.dlq` with the
/// error in an `error` header, and consumption goes on past it.
public final class KafkaEventBus: EventBus {
    public let settings: KafkaSettings
    let producer: KafkaProducer

    public init(settings: KafkaSettings) throws {
        self.settings = settings
        producer = try KafkaProducer(settings: settings)
    }

    public func publish(_ events: [MemoryEvent]) async throws {
        let records = events.map { event in
            KafkaRecord(
                topic: settings.topic, key: Array(event.id.uuidString.lowercased().utf8), value: event.json,
                headers: [
                    ("event_type", event.kind.rawValue), ("schema_version", String(MemoryEvent.schemaVersion)), ("content-type", "application/json"),
                ])
        }
        try await producer.send(records)
    }

    public func subscribe(group: String, consumer: String) async throws -> any EventSubscription {
        producer.touch(topic: settings.topic)
        return KafkaSubscription(bus: self, group: group, consumer: try KafkaConsumer(settings: settings, group: group, topic: settings.topic))
    }

    /// A metadata request waits up to a second on a broker that is away: it runs on a Dispatch
    /// thread, never on one of Swift's few cooperative threads.
    public func isHealthy() async -> Bool {
        let producer = producer
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: producer.isReachable()) }
        }
    }

    /// Copies a record to the dead-letter topic with the reason it could not be processed.
    func deadLetter(_ message: KafkaMessage, reason: String) async throws {
        var headers = message.headers.map { ($0.key, $0.value) }.filter { $0.0 != "error" }
        headers += [
            ("error", reason), ("source_topic", message.topic), ("source_partition", String(message.partition)),
            ("source_offset", String(message.offset)),
        ]
        try await producer.send([KafkaRecord(topic: settings.deadLetterTopic, key: message.key, value: message.value, headers: headers)])
    }
}

final class KafkaSubscription: EventSubscription {
    private let bus: KafkaEventBus
    private let consumer: KafkaConsumer
    /// Records handed out and not yet settled, by receipt; and how often each was read.
    private let outstanding = Mutex<[String: KafkaMessage]>([:])
    private let attempts = Mutex<[String: Int]>([:])
    /// Records set aside here, before any event reached the consumer (the same series the consumer counts into).
    private let deadLettered: Counter

    init(bus: KafkaEventBus, group: String, consumer: KafkaConsumer) {
        self.bus = bus
        self.consumer = consumer
        deadLettered = Counter(label: "soma_consumer_events_dead_lettered_total", dimensions: [("group", group)])
    }

    func next(timeout: Duration) async throws -> EventDelivery? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard let message = try await consumer.poll(timeout: max(.milliseconds(1), remaining)) else { return nil }
            let receipt = "\(message.topic)/\(message.partition)/\(message.offset)"
            do {
                let event = try MemoryEvent(acceptingOriginal: message.value)
                let attempt = attempts.withLock { attempts in
                    attempts[receipt, default: 0] += 1
                    return attempts[receipt]!
                }
                outstanding.withLock { $0[receipt] = message }
                return EventDelivery(event: event, receipt: receipt, attempt: attempt)
            } catch {
                // Not an event this service can read: set it aside and go on with the partition.
                try await bus.deadLetter(message, reason: "undecodable event: \(error)")
                try await consumer.commit([message])
                deadLettered.increment()
            }
            if ContinuousClock.now >= deadline { return nil }
        }
    }

    func acknowledge(_ delivery: EventDelivery) async throws {
        try await acknowledge([delivery])
    }

    /// One commit for the batch: the offset after its last event, per partition.
    func acknowledge(_ deliveries: [EventDelivery]) async throws {
        let messages = try deliveries.map(settle)
        try await consumer.commit(messages)
        forget(deliveries)
    }

    func reject(_ delivery: EventDelivery) async throws {
        try await reject([delivery])
    }

    /// Moves each partition back to the earliest of the deliveries read from it.
    func reject(_ deliveries: [EventDelivery]) async throws {
        try await consumer.rewind(to: try deliveries.map(settle))
    }

    func deadLetter(_ delivery: EventDelivery, reason: String) async throws {
        let message = try settle(delivery)
        try await bus.deadLetter(message, reason: reason)
        try await consumer.commit([message])
        forget([delivery])
    }

    private func forget(_ deliveries: [EventDelivery]) {
        attempts.withLock { attempts in deliveries.forEach { attempts.removeValue(forKey: $0.receipt) } }
    }

    func lag() async -> Int? { await consumer.lag() }

    func close() async { await consumer.close() }

    private func settle(_ delivery: EventDelivery) throws -> KafkaMessage {
        guard let message = outstanding.withLock({ $0.removeValue(forKey: delivery.receipt) }) else {
            throw KafkaError("no outstanding delivery \(delivery.receipt)")
        }
        return message
    }
}
