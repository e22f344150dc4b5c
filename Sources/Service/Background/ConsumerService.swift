import Foundation
import Logging
import Metrics
import ServiceLifecycle
import SomaCore

/// How the consumer treats an event it cannot apply.
public struct ConsumerPolicy: Sendable, Equatable {
    /// Deliveries before an event is set aside in the dead-letter queue.
    public var maxAttempts = 5
    /// Wait before the second attempt; it doubles with each further one, up to `maxBackoff`.
    public var backoff: Duration = .milliseconds(200)
    public var maxBackoff: Duration = .seconds(10)
    /// Events applied together: one storage read, one embedding call, one vector upsert.
    public var batchSize = 64

    public init() {}

    func delay(after attempt: Int) -> Duration {
        let doubled = backoff * (1 << min(max(attempt - 1, 0), 16))
        return min(doubled, maxBackoff)
    }
}

/// Consumes memory events as one member of a consumer group and applies them to the vector index,
/// in batches of what has arrived. An event is acknowledged (its offset committed) only after it
/// was applied. A failure is retried
/// with a growing delay; after the last attempt the event goes to the dead-letter queue with the
/// error, and consumption goes on. On SIGTERM the batch in hand is finished and acknowledged
/// before the member leaves its group.
public struct ConsumerService: Service, CustomStringConvertible {
    let engine: MemoryEngine
    let group: String
    let policy: ConsumerPolicy
    let logger: Logger

    public init(engine: MemoryEngine, group: String, policy: ConsumerPolicy = ConsumerPolicy(), logger: Logger) {
        self.engine = engine
        self.group = group
        self.policy = policy
        self.logger = logger
    }

    public var description: String { "EventConsumer(\(group))" }

    public func run() async throws {
        let metrics = ConsumerMetrics(group: group)
        var subscription: (any EventSubscription)?
        while subscription == nil, !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                subscription = try await engine.bus.subscribe(group: group, consumer: "soma-\(ProcessInfo.processInfo.hostName)-\(getpid())")
            } catch {
                logger.warning("event bus unavailable; retrying", metadata: ["error": .string("\(error)")])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        guard let subscription else { return }
        await consume(subscription, metrics)
        await subscription.close()
    }

    private func consume(_ subscription: any EventSubscription, _ metrics: ConsumerMetrics) async {
        let consumer = EventConsumer(engine: engine)
        var lastLagReading = ContinuousClock.now - .seconds(10)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if lastLagReading.duration(to: .now) > .seconds(1) {
                lastLagReading = .now
                if let lag = await subscription.lag() { metrics.lag.record(lag) }
            }
            do {
                let batch = try await subscription.nextBatch(policy.batchSize, timeout: .milliseconds(500))
                guard !batch.isEmpty else { continue }
                metrics.consumed.increment(by: Int64(batch.count))
                do {
                    try await consumer.apply(batch.map(\.event))
                    try await subscription.acknowledge(batch)
                    metrics.applied(batch)
                } catch {
                    try await applyOneByOne(batch, consumer, subscription, metrics)
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("event bus unavailable; retrying", metadata: ["error": .string("\(error)")])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// A batch failed: finds the event(s) at fault by applying them in order. One that failed its
    /// last attempt goes to the dead-letter queue; at the first one to retry, it and everything
    /// after it are given back together (so a partition restarts from it and skips nothing).
    private func applyOneByOne(
        _ batch: [EventDelivery], _ consumer: EventConsumer, _ subscription: any EventSubscription, _ metrics: ConsumerMetrics
    ) async throws {
        for (index, delivery) in batch.enumerated() {
            do {
                try await consumer.apply([delivery.event])
                try await subscription.acknowledge(delivery)
                metrics.applied([delivery])
            } catch {
                metrics.failed.increment()
                let metadata: Logger.Metadata = [
                    "event_id": .string(delivery.event.eventID.uuidString.lowercased()), "attempt": .stringConvertible(delivery.attempt),
                    "error": .string("\(error)"),
                ]
                // While storage, the vector index or the embedder is down, failures say nothing about
                // the event: it waits for the backend instead of counting towards the dead-letter queue.
                let storageUp = await engine.storage.isHealthy()
                let vectorsUp = await engine.vectors.isHealthy()
                let outage = !storageUp || !vectorsUp || ConsumerService.isEmbedderOutage(error)
                if delivery.attempt >= policy.maxAttempts, !outage {
                    logger.error("event failed every attempt; moved to the dead-letter queue", metadata: metadata)
                    try await subscription.deadLetter(delivery, reason: "\(error)")
                    metrics.deadLettered.increment()
                } else {
                    logger.warning(
                        outage ? "event not applied while a backend is down; it will be retried" : "event not applied; it will be retried",
                        metadata: metadata)
                    try? await Task.sleep(for: outage ? policy.maxBackoff : policy.delay(after: delivery.attempt))
                    try await subscription.reject(Array(batch[index...]))
                    return
                }
            }
        }
    }

    /// The embedder failed (down, timing out, refusing): the event itself is not at fault.
    static func isEmbedderOutage(_ error: any Error) -> Bool {
        if case .unavailable(let failure)? = error as? EngineError, failure.capability == .embedder { return true }
        return false
    }
}

/// What `/metrics` shows about the consumer.
struct ConsumerMetrics {
    let consumed: Counter
    let processed: Counter
    let failed: Counter
    let deadLettered: Counter
    let lag: Gauge
    /// From the change (the event's timestamp) to its vector being searchable.
    let age: Timer

    func applied(_ deliveries: [EventDelivery]) {
        processed.increment(by: Int64(deliveries.count))
        for delivery in deliveries { age.recordInterval(since: delivery.event.timestamp) }
    }

    init(group: String) {
        let dimensions = [("group", group)]
        consumed = Counter(label: "soma_consumer_events_consumed_total", dimensions: dimensions)
        processed = Counter(label: "soma_consumer_events_processed_total", dimensions: dimensions)
        failed = Counter(label: "soma_consumer_events_failed_total", dimensions: dimensions)
        deadLettered = Counter(label: "soma_consumer_events_dead_lettered_total", dimensions: dimensions)
        lag = Gauge(label: "soma_consumer_lag_events", dimensions: dimensions)
        age = Timer(label: "soma_consumer_event_age_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
    }
}

extension Timer {
    func recordInterval(since date: Date) {
        recordNanoseconds(Int64(max(0, Date().timeIntervalSince(date)) * 1_000_000_000))
    }
}
