import CHiredis
import Foundation

/// One hiredis connection, driven with blocking calls under socket timeouts. It is only ever used
/// by one pool thread at a time (the client checks it out and back in), which is what makes the
/// unchecked `Sendable` sound.
final class RedisConnection: @unchecked Sendable {
    private let context: UnsafeMutablePointer<redisContext>
    private let commandTimeout: timeval

    init(_ endpoint: RedisEndpoint) throws {
        let timeout = Self.timeval(endpoint.timeout)
        guard let context = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeout) else {
            throw RedisError.unavailable("out of memory while connecting")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            throw RedisError.unavailable("cannot connect to \(endpoint.host):\(endpoint.port): \(reason)")
        }
        self.context = context
        self.commandTimeout = timeout
        redisSetTimeout(context, timeout)
        // From here a throw runs deinit, which frees the context.
        if let password = endpoint.password {
            let login = endpoint.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            if case .error(let message) = try run([login.map { Array($0.utf8) }])[0] {
                throw RedisError.unavailable("authentication failed: \(message)")
            }
        }
        if endpoint.database != 0 {
            _ = try run([["SELECT", String(endpoint.database)].map { Array($0.utf8) }])[0].checked()
        }
    }

    deinit { redisFree(context) }

    /// Sends every command, then reads every reply: one round trip for the batch.
    /// A thrown error means the connection is broken and must not be reused.
    func run(_ commands: [[[UInt8]]], timeout: Duration? = nil) throws -> [RedisReply] {
        if let timeout { redisSetTimeout(context, Self.timeval(timeout)) }
        defer { if timeout != nil { redisSetTimeout(context, commandTimeout) } }
        for arguments in commands {
            let status = Self.withArgv(arguments) { argv, lengths in
                redisAppendCommandArgv(context, Int32(arguments.count), argv, lengths)
            }
            guard status == REDIS_OK else { throw RedisError.unavailable(Self.errorText(context)) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw RedisError.unavailable(Self.errorText(context))
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(RedisReply(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    private static func withArgv<R>(_ arguments: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        // hiredis copies the arguments into its output buffer, so they need to live only for this call.
        let copies = arguments.map { bytes -> UnsafeMutablePointer<CChar> in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { copy.initialize(from: $0.baseAddress!, count: bytes.count) }
            }
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        var argv = copies.map { UnsafePointer<CChar>?(UnsafePointer($0)) }
        let lengths = arguments.map(\.count)
        return argv.withUnsafeMutableBufferPointer { argvBuffer in
            lengths.withUnsafeBufferPointer { body(argvBuffer.baseAddress!, $0.baseAddress!) }
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let message = withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return message.isEmpty ? "connection error \(context.pointee.err)" : message
    }

    private static func timeval(_ duration: Duration) -> timeval {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        return Foundation.timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    }
}
