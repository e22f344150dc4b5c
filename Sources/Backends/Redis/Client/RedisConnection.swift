import CHiredis
import SomaCore
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One connection to Redis on SwiftNIO's event loops. Callers' commands are written as they come
/// (pipelined) and Redis answers in order, so the replies complete them in order: any number of
/// commands can be in flight on one connection, and no thread waits for a reply. hiredis formats
/// the commands and reads the replies; TLS (`rediss://`) is NIOSSL's.
final class RedisConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<RedisCommandHandler>

    private init(channel: any Channel, handler: NIOLoopBound<RedisCommandHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// The command handler, kept as the pipeline is built: a connection the server (or a TLS
    /// handshake) closed at once has no pipeline left to look it up in, and it holds the reason.
    private final class Installed: Sendable {
        let handler = Mutex<NIOLoopBound<RedisCommandHandler>?>(nil)
    }

    /// Connects, logs in and selects the database; fails naming the endpoint.
    static func connect(_ endpoint: RedisEndpoint, tls: NIOSSLContext?, group: any EventLoopGroup) async throws -> RedisConnection {
        let installed = Installed()
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(endpoint.timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // An address cannot be a TLS server name; the certificate is then checked against it.
                        let name = endpoint.host.first.map { $0.isLetter } == true ? endpoint.host : nil
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    let commands = RedisCommandHandler()
                    try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(RedisReplyDecoder()), commands])
                    installed.handler.withLock { $0 = NIOLoopBound(commands, eventLoop: channel.eventLoop) }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw RedisError.unavailable("cannot connect to \(endpoint.host):\(endpoint.port): \(ConnectionProblem.words(error))")
        }
        guard let handler = installed.handler.withLock({ $0 }) else { throw RedisError.unavailable("the connection was set up without its handler") }
        let connection = RedisConnection(channel: channel, handler: handler)
        do {
            if let password = endpoint.password {
                let login = endpoint.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                if case .error(let message) = try await connection.run([login.map { Array($0.utf8) }], timeout: endpoint.timeout)[0] {
                    throw RedisError.unavailable("authentication failed: \(message)")
                }
            }
            if endpoint.database != 0 {
                _ = try await connection.run([["SELECT", String(endpoint.database)].map { Array($0.utf8) }], timeout: endpoint.timeout)[0].checked()
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    var isOpen: Bool { channel.isActive }

    /// Writes the commands at once and returns their replies. When they have not all arrived within
    /// `timeout`, every command waiting on this connection fails and it is closed (the replies still
    /// to come could no longer be matched to their commands).
    func run(_ commands: [[[UInt8]]], timeout: Duration) async throws -> [RedisReply] {
        var bytes = channel.allocator.buffer(capacity: commands.reduce(0) { $0 + $1.reduce(16) { $0 + $1.count + 16 } })
        for arguments in commands { try RedisCommandFormat.append(arguments, to: &bytes) }
        let request = bytes
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        let (handler, count) = (handler, commands.count)
        channel.eventLoop.execute {
            handler.value.send(request, replies: count, within: TimeAmount(timeout), promise: promise)
        }
        return try await promise.futureResult.get()
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Completes each request's promise with its replies, in the order the requests were written.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RedisReply
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        let count: Int
        let deadline: NIODeadline
        var replies: [RedisReply] = []
        let promise: EventLoopPromise<[RedisReply]>
    }

    private var waiting = CircularBuffer<Waiting>()
    private var context: ChannelHandlerContext?
    private var failure: RedisError?
    /// One timer per connection rather than per command: due at the earliest deadline waiting.
    private var watch: Scheduled<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(RedisError.unavailable("connection closed"))
        self.context = nil
    }

    func send(_ bytes: ByteBuffer, replies count: Int, within timeout: TimeAmount, promise: EventLoopPromise<[RedisReply]>) {
        guard let context, failure == nil, context.channel.isActive else {
            promise.fail(failure ?? RedisError.unavailable("connection closed"))
            return
        }
        let deadline = NIODeadline.now() + timeout
        waiting.append(Waiting(count: count, deadline: deadline, promise: promise))
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        if watch == nil { watch(until: deadline, on: context.eventLoop) }
    }

    /// At `deadline`: a command still waiting past its own fails them all and closes the
    /// connection; otherwise the watch moves to the earliest deadline still waiting.
    private func watch(until deadline: NIODeadline, on eventLoop: any EventLoop) {
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        watch = eventLoop.scheduleTask(deadline: deadline) {
            let handler = handler.value
            handler.watch = nil
            let now = NIODeadline.now()
            guard let earliest = handler.waiting.map(\.deadline).min() else { return }
            guard earliest > now else {
                handler.fail(RedisError.unavailable("no reply in time"))
                handler.context?.close(promise: nil)
                return
            }
            handler.watch(until: earliest, on: eventLoop)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard !waiting.isEmpty else {
            fail(RedisError.unavailable("a reply no command asked for"))
            context.close(promise: nil)
            return
        }
        waiting[waiting.startIndex].replies.append(reply)
        if waiting[waiting.startIndex].replies.count == waiting[waiting.startIndex].count {
            let done = waiting.removeFirst()
            done.promise.succeed(done.replies)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(RedisError.unavailable("connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error as? RedisError ?? RedisError.unavailable("\(error)"))
        context.close(promise: nil)
    }

    /// Fails every waiting command; the connection is not used again.
    private func fail(_ error: RedisError) {
        if failure == nil { failure = error }
        watch?.cancel()
        watch = nil
        while let next = waiting.popFirst() { next.promise.fail(error) }
    }
}

/// Reads replies from the byte stream with hiredis's reader (RESP2).
final class RedisReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = RedisReply
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        reader = redisReaderCreate()
    }

    deinit { redisReaderFree(reader) }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if buffer.readableBytes > 0 {
            let fed = buffer.withUnsafeReadableBytes { bytes in
                redisReaderFeed(reader, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
            }
            guard fed == REDIS_OK else { throw readerError() }
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        }
        // Every reply the bytes completed: NIO calls again only when more bytes arrive.
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw readerError() }
            guard let raw else { return .needMoreData }
            let reply = RedisReply(raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            context.fireChannelRead(wrapInboundOut(reply))
        }
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    private func readerError() -> RedisError {
        let message = withUnsafeBytes(of: reader.pointee.errstr) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        return RedisError.unavailable("unreadable reply: \(message)")
    }
}

/// Commands in Redis's protocol, as hiredis formats them.
enum RedisCommandFormat {
    static func append(_ arguments: [[UInt8]], to buffer: inout ByteBuffer) throws {
        var command: UnsafeMutablePointer<CChar>?
        let length = withArgv(arguments) { argv, lengths in redisFormatCommandArgv(&command, Int32(arguments.count), argv, lengths) }
        guard length > 0, let command else { throw RedisError.command("cannot format the command") }
        defer { redisFreeCommand(command) }
        buffer.writeBytes(UnsafeRawBufferPointer(start: command, count: Int(length)))
    }

    private static func withArgv<R>(_ arguments: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        // hiredis copies the arguments into the command, so they need to live only for this call.
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
}
