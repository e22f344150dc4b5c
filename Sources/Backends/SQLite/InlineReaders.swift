import Foundation
import GRDB
import Synchronization

/// Read-only connections for short reads run on the calling thread. Awaiting GRDB's reader queue
/// hops there and back, and each hop back queues the request behind every other request's work:
/// with 16 recalls in flight on 2 cores that hop was most of hybrid recall's 99th percentile
/// (BENCHMARKS.md, "Reads on the calling thread").
/// The calling thread never waits here: with every connection busy, `read` answers nil and the
/// caller awaits GRDB's pool instead. (Waiting on GRDB's reader semaphore from a thread of Swift's
/// pool can deadlock: an awaited read gives its reader back only once its task resumes, on a
/// thread of that same pool.)
final class InlineReaders: Sendable {
    private struct State {
        var idle: [DatabaseQueue] = []
        var opened = 0
        var closed = false
    }

    private let path: String
    private let busyTimeout: TimeInterval
    /// Connections opened at most: Swift's pool runs a thread per core, so more would sit idle.
    private let limit: Int
    private let state = Mutex(State())

    init(path: String, busyTimeout: TimeInterval, limit: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.path = path
        self.busyTimeout = busyTimeout
        self.limit = max(1, limit)
    }

    /// `read` run on this thread in one snapshot, or nil (not run) when no connection is free.
    func read<T>(_ read: (Database) throws -> T) throws -> T? {
        guard let connection = take() else { return nil }
        defer { giveBack(connection) }
        return try connection.read(read)
    }

    /// Closes the idle connections now and the busy ones as they come back.
    func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle { try? connection.close() }
    }

    private func take() -> DatabaseQueue? {
        enum Next { case reuse(DatabaseQueue), open, none }
        let next = state.withLock { state -> Next in
            if state.closed { return .none }
            if let connection = state.idle.popLast() { return .reuse(connection) }
            guard state.opened < limit else { return .none }
            state.opened += 1
            return .open
        }
        switch next {
        case .reuse(let connection): return connection
        case .none: return nil
        case .open:
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(busyTimeout)
            // A file GRDB's pool cannot open either: the caller's fallback reports it.
            guard let connection = try? DatabaseQueue(path: path, configuration: configuration) else {
                state.withLock { $0.opened -= 1 }
                return nil
            }
            return connection
        }
    }

    private func giveBack(_ connection: DatabaseQueue) {
        let closed = state.withLock { state in
            if !state.closed { state.idle.append(connection) }
            return state.closed
        }
        if closed { try? connection.close() }
    }
}
