import Foundation
import SomaCore
import Synchronization

/// The thread that runs the model. Tokenizing and forward passes are CPU work of tens of
/// milliseconds, so they run here, never on Swift's cooperative pool or NIO's event loops, and
/// `/healthz` and gets stay responsive while the model is busy; the encoder's `WorkerTeam` adds
/// `SOMA_EMBEDDER_THREADS - 1` helpers for the parallel phases of a pass. Jobs run in order, except queries: a query waits
/// at most for the pass under way (one chunk of `tokenCapacity` tokens), then goes first.
final class EncoderThread: @unchecked Sendable {
    private struct Job {
        let texts: [String]
        let continuation: CheckedContinuation<[[Float]], any Error>
    }

    private let tokenizer: WordPieceTokenizer
    private let encoder: BertEncoder
    private let condition = NSCondition()
    private var queries: [Job] = []
    private var batches: [Job] = []
    private var stopping = false
    /// Signalled when the thread and the encoder's workers have ended.
    private let ended = DispatchSemaphore(value: 0)
    /// Forward passes run so far (tests read it to see that concurrent stores share passes).
    let passes = Atomic<Int>(0)

    init(tokenizer: WordPieceTokenizer, encoder: BertEncoder) {
        self.tokenizer = tokenizer
        self.encoder = encoder
        NamedThread.start("soma-embedder") { [self] in loop() }
    }

    func embed(_ texts: [String], query: Bool) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else {
                continuation.resume(throwing: CancellationError())
                return
            }
            if query {
                queries.append(Job(texts: texts, continuation: continuation))
            } else {
                batches.append(Job(texts: texts, continuation: continuation))
            }
            condition.signal()
        }
    }

    var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !stopping
    }

    /// Ends the thread after the job under way; jobs still waiting fail.
    func stop() {
        condition.lock()
        stopping = true
        let abandoned = queries + batches
        queries = []
        batches = []
        condition.signal()
        condition.unlock()
        for job in abandoned { job.continuation.resume(throwing: CancellationError()) }
    }

    private func loop() {
        while let job = next() {
            job.continuation.resume(returning: run(job.texts))
        }
        encoder.stopWorkers()
        ended.signal()
    }

    /// Stops, and returns once the thread and its workers have ended (the service's shutdown).
    func stopAndWait() async {
        stop()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // Waiting blocks: never on one of Swift's cooperative threads.
            Thread.detachNewThread { [ended] in
                ended.wait()
                ended.signal()  // a second caller returns too
                done.resume()
            }
        }
    }

    /// The next job, queries first; nil once stopping.
    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while !stopping, queries.isEmpty, batches.isEmpty { condition.wait() }
        if stopping { return nil }
        return queries.isEmpty ? batches.removeFirst() : queries.removeFirst()
    }

    /// Waiting queries, taken between the chunks of a long batch.
    private func takeQueries() -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        let waiting = queries
        queries = []
        return waiting
    }

    private func run(_ texts: [String]) -> [[Float]] {
        let sequences = texts.map(tokenizer.encode)
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < sequences.count {
            var tokens = 0
            var end = start
            while end < sequences.count, tokens + sequences[end].count <= encoder.tokenCapacity {
                tokens += sequences[end].count
                end += 1
            }
            vectors += encoder.embed(Array(sequences[start..<end]))
            passes.add(1, ordering: .relaxed)
            start = end
            if start < sequences.count {
                for query in takeQueries() { query.continuation.resume(returning: encoder.embed(query.texts.map(tokenizer.encode))) }
            }
        }
        return vectors
    }
}
