import GRDB
import Synchronization

/// Batches concurrent writes into one transaction, so throughput does not fall to one fsync per
/// request. Callers are answered only after the shared transaction has committed. When one write
/// of a batch fails, the batch's transaction is rolled back and each write is retried alone, so
/// only the failing one fails and nothing half-written is ever committed.
final class GroupCommitter: Sendable {
    private struct Item: Sendable {
        /// Performs the write; returns how to answer the caller once the transaction commits.
        let attempt: @Sendable (Database) throws -> @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
    }

    private struct State {
        var pending: [Item] = []
        var draining = false
    }

    private let writer: DatabasePool
    private let maxBatch: Int
    private let state = Mutex(State())

    init(writer: DatabasePool, maxBatch: Int = 512) {
        self.writer = writer
        self.maxBatch = maxBatch
    }

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let item = Item(
                attempt: { db in
                    let value = try work(db)
                    return { continuation.resume(returning: value) }
                },
                fail: { continuation.resume(throwing: $0) })
            let startDrain = state.withLock { state in
                state.pending.append(item)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if startDrain { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch: [Item] = state.withLock { state in
                let taken = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(taken.count)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            guard !batch.isEmpty else { return }
            do {
                let answers = try await writer.write { db in try batch.map { try $0.attempt(db) } }
                for answer in answers { answer() }
            } catch {
                for item in batch {
                    do {
                        let answer = try await writer.write { db in try item.attempt(db) }
                        answer()
                    } catch {
                        item.fail(error)
                    }
                }
            }
        }
    }
}
