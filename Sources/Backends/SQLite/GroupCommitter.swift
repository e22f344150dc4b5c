import GRDB
import Synchronization

/// Batches concurrent writes into one transaction, so throughput does not fall to one fsync per
/// request. Each write runs in its own savepoint (one failing write does not undo the others) and
/// its caller is answered only after the shared transaction has committed.
final class GroupCommitter: Sendable {
    private struct Item: Sendable {
        /// Runs the write inside the transaction; returns how to answer the caller once it commits.
        let run: @Sendable (Database) -> @Sendable () -> Void
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
                run: { db in
                    var outcome: Result<T, any Error> = .failure(CancellationError())
                    do {
                        try db.inSavepoint {
                            outcome = .success(try work(db))
                            return .commit
                        }
                    } catch {
                        outcome = .failure(error)
                    }
                    let settled = outcome
                    return { continuation.resume(with: settled) }
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
                let answers = try await writer.write { db in batch.map { $0.run(db) } }
                for answer in answers { answer() }
            } catch {
                for item in batch { item.fail(error) }
            }
        }
    }
}
