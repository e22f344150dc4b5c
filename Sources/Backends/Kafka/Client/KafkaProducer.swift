import CRdKafka
import Foundation
import SomaCore
import Synchronization

/// One record to send: key, value and headers.
struct KafkaRecord: Sendable {
    var topic: String
    var key: [UInt8]
    var value: [UInt8]
    var headers: [(String, String)]
}

/// An idempotent producer (`enable.idempotence`, hence `acks=all` and ordered retries): a send
/// returns only once the brokers confirmed every record of it, or throws the first failure.
///
/// librdkafka calls back with delivery reports from `rd_kafka_poll`, which a dedicated thread
/// calls; each record carries a retained pointer to its batch, released by its report.
final class KafkaProducer: @unchecked Sendable {
    // @unchecked: `handle` is thread-safe (librdkafka); the poll thread stops before it is freed.
    private let handle: OpaquePointer
    private let poller = Poller()

    init(settings: KafkaSettings) throws {
        let conf = try KafkaClientFactory.configuration(
            settings.common + [
                ("enable.idempotence", "true"),
                ("acks", "all"),
                ("linger.ms", "5"),
                ("message.timeout.ms", String(settings.deliveryTimeout.wholeMilliseconds)),
            ])
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let batch = Unmanaged<DeliveryBatch>.fromOpaque(opaque).takeRetainedValue()
            let error = message.pointee.err
            batch.report(error == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaClientFactory.text(error))
        }
        handle = try KafkaClientFactory.client(RD_KAFKA_PRODUCER, conf)
        poller.start(KafkaHandleReference(pointer: handle))
    }

    /// Set by `close`: the handle is freed, and a send fails at once.
    private let closed = Atomic<Bool>(false)

    /// Sends what is queued (up to 5 s), then frees the client; on a thread of its own, since
    /// librdkafka blocks. The shutdown calls it, after the server and the outbox relay have stopped.
    func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let (handle, poller) = (KafkaHandleReference(pointer: handle), poller)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // Cancelled (the stop's grace is spent): no time left to wait for unreachable brokers.
            let flushMilliseconds: Int32 = Task.isCancelled ? 500 : 5000
            NamedThread.start("kafka-close") {
                rd_kafka_flush(handle.pointer, flushMilliseconds)
                poller.stop()
                rd_kafka_destroy(handle.pointer)
                done.resume()
            }
        }
    }

    deinit {
        // Closed by the service lifetime; a producer made outside one (a test) ends without waiting.
        guard !closed.load(ordering: .acquiring) else { return }
        let (handle, poller) = (KafkaHandleReference(pointer: handle), poller)
        Thread.detachNewThread {
            poller.stop()
            rd_kafka_destroy(handle.pointer)
        }
    }

    /// Serves delivery reports on a thread of its own until stopped.
    final class Poller: Sendable {
        private let running = Atomic<Bool>(true)
        private let stopped = DispatchSemaphore(value: 0)

        func start(_ reference: KafkaHandleReference) {
            NamedThread.start("kafka-poll") { [self] in
                while running.load(ordering: .relaxed) { rd_kafka_poll(reference.pointer, 100) }
                stopped.signal()
            }
        }

        func stop() {
            running.store(false, ordering: .relaxed)
            stopped.wait()
        }
    }

    /// Sends the records and waits for every delivery report.
    func send(_ records: [KafkaRecord]) async throws {
        guard !records.isEmpty else { return }
        guard !closed.load(ordering: .acquiring) else { throw KafkaError("the producer is closed (the service is stopping)") }
        let batch = DeliveryBatch(count: records.count)
        // A stop cancels the wait (the brokers may be gone for good): the events stay in the outbox,
        // and a report arriving later finds nobody waiting.
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                guard batch.start(continuation) else { return }
                for record in records {
                    let opaque = Unmanaged.passRetained(batch).toOpaque()
                    if let failure = produce(record, opaque: opaque) {
                        Unmanaged<DeliveryBatch>.fromOpaque(opaque).release()
                        batch.report(failure.description)
                    }
                }
            }
        } onCancel: {
            batch.abandon()
        }
    }

    /// Asks the brokers about `topic`, which creates it where they create topics on first use, so
    /// a consumer subscribing next finds it at once rather than at its next metadata refresh.
    func touch(topic: String) {
        guard let reference = rd_kafka_topic_new(handle, topic, nil) else { return }
        defer { rd_kafka_topic_destroy(reference) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        _ = rd_kafka_metadata(handle, 0, reference, &metadata, 5000)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
    }

    /// Whether the brokers answer a metadata request within a second.
    func isReachable() -> Bool {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(handle, 0, nil, &metadata, 1000)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        return result == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Queues one record; returns an error if librdkafka refused it outright.
    private func produce(_ record: KafkaRecord, opaque: UnsafeMutableRawPointer) -> KafkaError? {
        let headers = rd_kafka_headers_new(record.headers.count)!
        for (name, value) in record.headers {
            rd_kafka_header_add(headers, name, -1, value, value.utf8.count)
        }
        let error: OpaquePointer? = record.topic.withCString { topic in
            record.key.withUnsafeBytes { key in
                record.value.withUnsafeBytes { value in
                    var fields = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    fields[0].u.cstr = topic
                    fields[1].vtype = RD_KAFKA_VTYPE_KEY
                    fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                    fields[1].u.mem.size = key.count
                    fields[2].vtype = RD_KAFKA_VTYPE_VALUE
                    fields[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    fields[2].u.mem.size = value.count
                    fields[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    fields[3].u.i = RD_KAFKA_MSG_F_COPY
                    fields[4].vtype = RD_KAFKA_VTYPE_HEADERS
                    fields[4].u.headers = headers
                    fields[5].vtype = RD_KAFKA_VTYPE_OPAQUE
                    fields[5].u.ptr = opaque
                    return rd_kafka_produceva(handle, fields, fields.count)
                }
            }
        }
        guard let error else { return nil }
        rd_kafka_headers_destroy(headers)  // ours again when the produce failed
        return KafkaClientFactory.consume(error)
    }
}

/// Counts the delivery reports of one send and resumes it after the last.
final class DeliveryBatch: Sendable {
    private struct State {
        var remaining: Int
        var failure: String?
        var continuation: CheckedContinuation<Void, any Error>?
        var abandoned = false
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(remaining: count))
    }

    /// False when the send was cancelled before it began: the continuation is resumed here.
    func start(_ continuation: CheckedContinuation<Void, any Error>) -> Bool {
        let abandoned = state.withLock { state in
            if !state.abandoned { state.continuation = continuation }
            return state.abandoned
        }
        if abandoned { continuation.resume(throwing: CancellationError()) }
        return !abandoned
    }

    /// The sender stops waiting (cancelled); reports still count down, and resume nobody.
    func abandon() {
        let waiting = state.withLock { state in
            state.abandoned = true
            defer { state.continuation = nil }
            return state.continuation
        }
        waiting?.resume(throwing: CancellationError())
    }

    func report(_ failure: String?) {
        let finished: (CheckedContinuation<Void, any Error>, String?)? = state.withLock { state in
            state.remaining -= 1
            if state.failure == nil { state.failure = failure }
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.failure)
        }
        guard let (continuation, failure) = finished else { return }
        if let failure { continuation.resume(throwing: KafkaError("delivery failed: \(failure)")) } else { continuation.resume() }
    }
}
