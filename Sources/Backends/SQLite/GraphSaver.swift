import Foundation
import Logging
import ServiceLifecycle
import SomaANN
import SomaCore

/// Saves an index's graphs every `interval` while vectors were merged into them since the last
/// save, so that after a crash the next start reuses a recent graph instead of merging every vector
/// again (searches scan the waiting ones exactly); a failed save is retried at the next tick. At the
/// shutdown it ends the background merge and saves once more, so a clean stop loses no merge work.
public struct GraphSaver: Service {
    let index: NearestNeighbourIndex
    let directory: String
    let interval: Duration?
    /// Saved at the shutdown only: a file taken while running is stale after a crash anyway.
    var entries: EntrySnapshot?

    public func run() async throws {
        if let interval {
            while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil {
                if index.mergedSinceSave > 0 { await save(retrying: "at the next interval") }
            }
        } else {
            try? await gracefulShutdown()
        }
        await index.stopMerging()
        // Cancelled (a shutdown past its grace): no time for a save; the next start merges again.
        guard !Task.isCancelled else { return }
        if index.mergedSinceSave > 0 { await save(retrying: "by merging again at the next start") }
        do {
            try await entries?.save()
        } catch {
            SQLiteVectorIndex.logger.warning("cannot save the vector entries; the next start reads the table", metadata: ["error": "\(error)"])
        }
    }

    private func save(retrying: String) async {
        let (index, directory) = (index, directory)
        do {
            // On a thread of its own: writing a graph (about 95 MB at 100,000 x 384 in half precision) must not hold
            // one of the few threads that serve requests.
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                NamedThread.start("soma-graph-save") { done.resume(with: Result { try index.save(to: directory) }) }
            }
        } catch {
            SQLiteVectorIndex.logger.warning("cannot save the HNSW graphs; retrying \(retrying)", metadata: ["error": "\(error)"])
        }
    }
}
