import Foundation
import NIOPosix
import Synchronization

/// A pool of hiredis connections driven on a thread pool of the same size.
///
/// hiredis gives a tested protocol reader and command formatter; its blocking API on dedicated
/// threads keeps the adapter small (no event-loop integration) and never blocks Swift's
/// cooperative threads. Pipelining sends a batch of commands in one round trip.
///
/// A broken connection is dropped and a later call reconnects. While Redis is unreachable, calls
/// fail at once for `retryInterval` after each failed connect instead of each waiting out a timeout,
/// so callers that can do without Redis (cache, rate limits) lose nothing in latency.
public final class RedisClient: Sendable {
    public let endpoint: RedisEndpoint
    private let threads: NIOThreadPool
    private let idle = Mutex<[RedisConnection]>([])
    private let retryNotBefore = Mutex<ContinuousClock.Instant?>(nil)
    private let retryInterval: Duration
    private let failures = Atomic<Int>(0)

    public init(_ endpoint: RedisEndpoint, retryInterval: Duration = .milliseconds(500)) {
        self.endpoint = endpoint
        self.retryInterval = retryInterval
        threads = NIOThreadPool(numberOfThreads: endpoint.poolSize)
        threads.start()
    }

    deinit {
        threads.shutdownGracefully { _ in }
    }

    /// Closes the idle connections and ends the pool's threads once the commands under way have
    /// returned; later calls fail as unavailable. The service lifetime calls it at shutdown.
    public func close() async {
        try? await threads.shutdownGracefully()
        idle.withLock { $0.removeAll() }
    }

    /// Connection-level failures seen so far; a caller compares counts to notice an outage.
    public var failureCount: Int { failures.load(ordering: .relaxed) }

    public func command(_ arguments: String...) async throws -> RedisReply {
        try await pipeline([arguments.map { Array($0.utf8) }])[0]
    }

    public func command(bytes arguments: [[UInt8]], timeout: Duration? = nil) async throws -> RedisReply {
        try await pipeline([arguments], timeout: timeout)[0]
    }

    /// Runs the commands in order on one connection, in one round trip.
    public func pipeline(_ commands: [[[UInt8]]], timeout: Duration? = nil) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        try checkBreaker()
        do {
            return try await threads.runIfActive { [self] in
                let connection = try checkOut()
                do {
                    let replies = try connection.run(commands, timeout: timeout)
                    idle.withLock { $0.append(connection) }
                    return replies
                } catch {
                    // A server that dropped this connection dropped the idle ones too.
                    idle.withLock { $0.removeAll() }
                    throw error
                }
            }
        } catch let error as RedisError {
            if case .unavailable = error { failures.add(1, ordering: .relaxed) }
            throw error
        } catch {
            failures.add(1, ordering: .relaxed)
            throw RedisError.unavailable("\(error)")
        }
    }

    public func isHealthy() async -> Bool {
        (try? await command("PING")) == .status("PONG")
    }

    private func checkBreaker() throws {
        let now = ContinuousClock.now
        let open = retryNotBefore.withLock { until in until.map { now < $0 } ?? false }
        if open { throw RedisError.unavailable("\(endpoint.host):\(endpoint.port) did not answer recently; retrying shortly") }
    }

    private func checkOut() throws -> RedisConnection {
        if let connection = idle.withLock({ $0.popLast() }) { return connection }
        do {
            let connection = try RedisConnection(endpoint)
            retryNotBefore.withLock { $0 = nil }
            return connection
        } catch {
            let until = ContinuousClock.now.advanced(by: retryInterval)
            retryNotBefore.withLock { $0 = until }
            // Pooled connections to a server that went away are as dead as this attempt.
            idle.withLock { $0.removeAll() }
            throw error
        }
    }
}
