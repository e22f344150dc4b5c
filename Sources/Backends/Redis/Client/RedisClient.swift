import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Connections to Redis on SwiftNIO's event loops, with hiredis for the protocol.
///
/// Commands share `poolSize` connections, many in flight on each (pipelined; Redis answers in
/// order), so callers wait for replies without holding a thread. A command that blocks on the
/// server (`XREADGROUP ... BLOCK`, given a `timeout`) gets a connection to itself for as long as it
/// runs, since everything behind it on a shared one would wait too.
///
/// A broken connection is dropped and a later call reconnects. While Redis is unreachable, calls
/// fail at once for `retryInterval` after each failed connect instead of each waiting out a timeout,
/// so callers that can do without Redis (cache, rate limits) lose nothing in latency.
public final class RedisClient: Sendable {
    public let endpoint: RedisEndpoint
    private let tls: NIOSSLContext?
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    private let shared: Mutex<[Slot]>
    private let poolSize: Int
    private let nextShared = Atomic<Int>(0)
    /// Connections for blocking commands, between two of them.
    private let exclusive = Mutex<[RedisConnection]>([])
    private let retryNotBefore = Mutex<ContinuousClock.Instant?>(nil)
    private let retryInterval: Duration
    private let failures = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)

    private enum Slot {
        case empty
        case connecting(Task<RedisConnection, any Error>)
        case open(RedisConnection)
    }

    public init(_ endpoint: RedisEndpoint, retryInterval: Duration = .milliseconds(500)) throws {
        self.endpoint = endpoint
        self.retryInterval = retryInterval
        poolSize = endpoint.poolSize
        shared = Mutex(Array(repeating: Slot.empty, count: endpoint.poolSize))
        tls = try endpoint.tls.map { settings in
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let file = settings.caFile { configuration.trustRoots = .file(file) }
            return try NIOSSLContext(configuration: configuration)
        }
    }

    /// Connection-level failures seen so far; a caller compares counts to notice an outage.
    public var failureCount: Int { failures.load(ordering: .relaxed) }

    public func command(_ arguments: String...) async throws -> RedisReply {
        try await pipeline([arguments.map { Array($0.utf8) }])[0]
    }

    public func command(bytes arguments: [[UInt8]], timeout: Duration? = nil) async throws -> RedisReply {
        try await pipeline([arguments], timeout: timeout)[0]
    }

    /// Runs the commands in order on one connection, in one round trip. `timeout`: a command that
    /// blocks on the server, for up to that long (its own connection). `scripts`: those the
    /// commands call by SHA; a server that lacks one (`NOSCRIPT`: restarted, flushed) is given them
    /// and the commands that failed so run again.
    public func pipeline(_ commands: [[[UInt8]]], timeout: Duration? = nil, scripts: [RedisScript] = []) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        guard !closed.load(ordering: .acquiring) else { throw RedisError.unavailable("the client is closed (the service is stopping)") }
        try checkBreaker()
        let blocking = timeout != nil
        let connection = try await (blocking ? checkOutExclusive() : sharedConnection())
        do {
            var replies = try await connection.run(commands, timeout: timeout ?? endpoint.timeout)
            let unknown = replies.indices.filter { replies[$0].isNoScript }
            if !unknown.isEmpty, !scripts.isEmpty {
                for reply in try await connection.run(scripts.map(\.loadCommand), timeout: endpoint.timeout) { _ = try reply.checked() }
                let again = try await connection.run(unknown.map { commands[$0] }, timeout: endpoint.timeout)
                for (index, reply) in zip(unknown, again) { replies[index] = reply }
            }
            if blocking { giveBack(connection) }
            return replies
        } catch let error as RedisError {
            if case .unavailable = error {
                failures.add(1, ordering: .relaxed)
                connection.close()
            } else if blocking {
                giveBack(connection)  // Redis refused the command; the connection is fine
            }
            throw error
        }
    }

    /// A blocking read's connection, for the next one; closed if the client closed meanwhile.
    private func giveBack(_ connection: RedisConnection) {
        let kept = exclusive.withLock { idle in
            guard !closed.load(ordering: .acquiring) else { return false }
            idle.append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    public func isHealthy() async -> Bool {
        (try? await command("PING")) == .status("PONG")
    }

    /// Closes every connection; later calls fail as unavailable. The service lifetime calls it at shutdown.
    public func close() async {
        exclusive.withLock { _ in closed.store(true, ordering: .releasing) }
        let slots = shared.withLock { slots in
            defer { slots = Array(repeating: .empty, count: slots.count) }
            return slots
        }
        for slot in slots {
            switch slot {
            case .open(let connection): connection.close()
            case .connecting(let task): (try? await task.value)?.close()
            case .empty: break
            }
        }
        exclusive.withLock { connections in
            connections.forEach { $0.close() }
            connections.removeAll()
        }
    }

    private func checkBreaker() throws {
        let now = ContinuousClock.now
        let open = retryNotBefore.withLock { until in until.map { now < $0 } ?? false }
        if open { throw RedisError.unavailable("\(endpoint.host):\(endpoint.port) did not answer recently; retrying shortly") }
    }

    /// The next shared connection in turn, connected on first use and again after it broke.
    private func sharedConnection() async throws -> RedisConnection {
        let index = nextShared.wrappingAdd(1, ordering: .relaxed).oldValue % poolSize
        // Open: use it. Otherwise one connect per slot: callers arriving meanwhile wait for the same one.
        let slot = shared.withLock { slots -> Slot in
            switch slots[index] {
            case .open(let connection) where connection.isOpen: return slots[index]
            case .connecting: return slots[index]
            default:
                slots[index] = .connecting(Task { [self] in try await connect() })
                return slots[index]
            }
        }
        guard case .connecting(let connecting) = slot else {
            guard case .open(let connection) = slot else { preconditionFailure("a slot in use is open or connecting") }
            return connection
        }
        do {
            let connection = try await connecting.value
            shared.withLock { slots in if case .connecting = slots[index] { slots[index] = .open(connection) } }
            return connection
        } catch {
            shared.withLock { slots in if case .connecting = slots[index] { slots[index] = .empty } }
            throw error
        }
    }

    private func checkOutExclusive() async throws -> RedisConnection {
        while let connection = exclusive.withLock({ $0.popLast() }) {
            if connection.isOpen { return connection }
        }
        return try await connect()
    }

    private func connect() async throws -> RedisConnection {
        do {
            let connection = try await RedisConnection.connect(endpoint, tls: tls, group: group)
            retryNotBefore.withLock { $0 = nil }
            return connection
        } catch {
            failures.add(1, ordering: .relaxed)
            let until = ContinuousClock.now.advanced(by: retryInterval)
            retryNotBefore.withLock { $0 = until }
            throw error as? RedisError ?? RedisError.unavailable("\(error)")
        }
    }
}
