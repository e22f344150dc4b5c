import CHiredis

/// A reply decoded from hiredis's reply tree (RESP2).
public enum RedisReply: Sendable, Equatable {
    case bulk([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    init(_ reply: UnsafePointer<redisReply>) {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            self = .bulk(Self.bytes(node))
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: Self.bytes(node), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: Self.bytes(node), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            self = .array((0..<node.elements).map { RedisReply(UnsafePointer(node.element[$0]!)) })
        default:
            self = .null
        }
    }

    private static func bytes(_ node: redisReply) -> [UInt8] {
        guard let text = node.str, node.len > 0 else { return [] }
        return text.withMemoryRebound(to: UInt8.self, capacity: node.len) { Array(UnsafeBufferPointer(start: $0, count: node.len)) }
    }

    public var isError: Bool {
        if case .error = self { true } else { false }
    }

    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var elements: [RedisReply] {
        if case .array(let elements) = self { return elements }
        return []
    }

    /// The reply, or a thrown `RedisError.command` when Redis answered with an error.
    public func checked() throws -> RedisReply {
        if case .error(let message) = self { throw RedisError.command(message) }
        return self
    }
}

public enum RedisError: Error, Equatable, CustomStringConvertible {
    /// Redis cannot be reached or the connection broke; the client reconnects on a later call.
    case unavailable(String)
    /// Redis answered the command with an error.
    case command(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "redis is unavailable: \(reason)"
        case .command(let message): "redis error: \(message)"
        }
    }
}
