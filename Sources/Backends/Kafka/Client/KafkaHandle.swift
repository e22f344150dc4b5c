import CRdKafka
import Foundation

/// A librdkafka error, with librdkafka's own words.
public struct KafkaError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The librdkafka this process loaded: the one on the library path at run time, which need not be
/// the one the build linked (see scripts/install-librdkafka.sh).
public enum KafkaLibrary {
    public static var version: String { String(cString: rd_kafka_version_str()) }
}

/// Builds librdkafka clients from property lists, turning its error buffers into `KafkaError`s.
enum KafkaClientFactory {
    /// A configuration object with every property set; a property librdkafka refuses is named.
    static func configuration(_ properties: [(String, String)]) throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var buffer = [CChar](repeating: 0, count: 512)
        for (name, value) in properties where rd_kafka_conf_set(conf, name, value, &buffer, buffer.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("setting \(name): \(text(buffer))")
        }
        return conf
    }

    /// A client; librdkafka owns `conf` from here on, whether or not this succeeds.
    static func client(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws -> OpaquePointer {
        var buffer = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &buffer, buffer.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(text(buffer))
        }
        return handle
    }

    /// Text of an error object, which is then freed.
    static func consume(_ error: OpaquePointer) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        return KafkaError(String(cString: rd_kafka_error_string(error)))
    }

    /// librdkafka's message in an error buffer it filled.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func text(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(code))
    }
}

/// A librdkafka handle handed to a thread: librdkafka's handles are thread-safe.
struct KafkaHandleReference: @unchecked Sendable {
    let pointer: OpaquePointer
}
