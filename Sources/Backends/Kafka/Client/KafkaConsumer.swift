import CRdKafka
import Foundation
import NIOPosix

/// One record read from a partition.
struct KafkaMessage: Sendable {
    var topic: String
    var partition: Int32
    var offset: Int64
    var key: [UInt8]
    var value: [UInt8]
    var headers: [String: String]
}

/// A member of a consumer group with manual offset commits (`enable.auto.commit=false`).
///
/// librdkafka's consumer calls block, so they run on a thread of their own, one at a time (the
/// consumer API is not meant to be polled from several threads at once); Swift's cooperative
/// threads never wait on the network.
final class KafkaConsumer: Sendable {
    private let handle: KafkaHandleReference
    private let thread: NIOThreadPool

    init(settings: KafkaSettings, group: String, topic: String) throws {
        let session = settings.sessionTimeout.wholeMilliseconds
        let conf = try KafkaClientFactory.configuration(
            settings.common + [
                ("group.id", group),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                // A new group starts at the oldest retained event, so a consumer deployed after the
                // API still sees what was written before it.
                ("auto.offset.reset", "earliest"),
                ("session.timeout.ms", String(session)),
                ("heartbeat.interval.ms", String(max(100, session / 3))),
                ("enable.partition.eof", "false"),
            ])
        let pointer = try KafkaClientFactory.client(RD_KAFKA_CONSUMER, conf)
        handle = KafkaHandleReference(pointer: pointer)
        rd_kafka_poll_set_consumer(pointer)
        let topics = rd_kafka_topic_partition_list_new(1)!
        defer { rd_kafka_topic_partition_list_destroy(topics) }
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA)
        let subscribed = rd_kafka_subscribe(pointer, topics)
        guard subscribed == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(pointer)
            throw KafkaError("subscribing to \(topic): \(KafkaClientFactory.text(subscribed))")
        }
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    /// The next record, or nil when none arrives within `timeout`. Errors librdkafka reports
    /// and recovers from by itself (a broker away, a topic not created yet) wait like silence;
    /// a fatal one is thrown.
    func poll(timeout: Duration) async throws -> KafkaMessage? {
        let handle = handle
        return try await thread.runIfActive {
            let deadline = ContinuousClock.now + timeout
            while true {
                let remaining = max(1, ContinuousClock.now.duration(to: deadline).wholeMilliseconds)
                if let message = rd_kafka_consumer_poll(handle.pointer, Int32(clamping: remaining)) {
                    defer { rd_kafka_message_destroy(message) }
                    let record = message.pointee
                    if record.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        return KafkaMessage(
                            topic: String(cString: rd_kafka_topic_name(record.rkt)),
                            partition: record.partition,
                            offset: record.offset,
                            key: Self.bytes(record.key, record.key_len),
                            value: Self.bytes(record.payload, record.len),
                            headers: Self.headers(message))
                    }
                    if record.err == RD_KAFKA_RESP_ERR__FATAL {
                        throw KafkaError("consumer failed: \(String(cString: rd_kafka_message_errstr(message)))")
                    }
                }
                if ContinuousClock.now >= deadline { return nil }
            }
        }
    }

    /// Commits, for each partition among `messages`, the offset after the last of them, in one
    /// request, and waits for the coordinator's answer.
    func commit(_ messages: [KafkaMessage]) async throws {
        let last = Self.perPartition(messages, keeping: >)
        guard !last.isEmpty else { return }
        try await onPartitions(last.map { ($0, $0.offset + 1) }) { handle, list in
            let result = rd_kafka_commit(handle, list, 0)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("commit: \(KafkaClientFactory.text(result))") }
        }
    }

    /// Moves each partition among `messages` back to the earliest of them, so the next polls read
    /// them (and what followed) again.
    func rewind(to messages: [KafkaMessage]) async throws {
        let earliest = Self.perPartition(messages, keeping: <)
        guard !earliest.isEmpty else { return }
        try await onPartitions(earliest.map { ($0, $0.offset) }) { handle, list in
            // The seek waits for the fetcher to stop and restart; on a loaded machine that has
            // taken over 5 s, and a failed rewind leaves a rejected batch for the next poll to skip.
            if let error = rd_kafka_seek_partitions(handle, list, 30_000) { throw KafkaClientFactory.consume(error) }
        }
    }

    /// Events written but not yet read by this member, summed over its partitions (from the
    /// watermarks librdkafka last fetched; nil before it has any).
    func lag() async -> Int? {
        let handle = handle
        return try? await thread.runIfActive { () -> Int? in
            var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            guard rd_kafka_assignment(handle.pointer, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment else { return nil }
            defer { rd_kafka_topic_partition_list_destroy(assignment) }
            guard rd_kafka_position(handle.pointer, assignment) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            var total = 0
            var known = false
            for index in 0..<Int(assignment.pointee.cnt) {
                let partition = assignment.pointee.elems[index]
                var low: Int64 = 0
                var high: Int64 = 0
                guard rd_kafka_get_watermark_offsets(handle.pointer, partition.topic, partition.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                    high >= 0
                else { continue }
                known = true
                total += Int(max(0, high - max(partition.offset, low)))
            }
            return known ? total : nil
        }
    }

    /// Leaves the group (its partitions move to the other members at once) and frees the client.
    func close() async {
        let handle = handle
        _ = try? await thread.runIfActive {
            rd_kafka_consumer_close(handle.pointer)
            rd_kafka_destroy(handle.pointer)
        }
        try? await thread.shutdownGracefully()
    }

    private func onPartitions(
        _ positions: [(KafkaMessage, Int64)],
        _ body: @escaping @Sendable (OpaquePointer, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> Void
    ) async throws {
        let handle = handle
        try await thread.runIfActive {
            let list = rd_kafka_topic_partition_list_new(Int32(positions.count))!
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (message, offset) in positions {
                rd_kafka_topic_partition_list_add(list, message.topic, message.partition).pointee.offset = offset
            }
            try body(handle.pointer, list)
        }
    }

    /// One message per partition: the one whose offset `keeping` prefers (`>` the last, `<` the first).
    private static func perPartition(_ messages: [KafkaMessage], keeping: (Int64, Int64) -> Bool) -> [KafkaMessage] {
        var chosen: [String: KafkaMessage] = [:]
        for message in messages {
            let key = "\(message.topic)/\(message.partition)"
            if chosen[key].map({ keeping(message.offset, $0.offset) }) ?? true { chosen[key] = message }
        }
        return Array(chosen.values)
    }

    private static func bytes(_ pointer: UnsafeMutableRawPointer?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private static func headers(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> [String: String] {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return [:] }
        var result: [String: String] = [:]
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            if let name {
                result[String(cString: name)] = value.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: size), as: UTF8.self) } ?? ""
            }
            index += 1
        }
        return result
    }
}
