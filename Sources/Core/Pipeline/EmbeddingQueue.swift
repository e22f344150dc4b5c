/// Shares a fixed number of request slots among every caller in the process. Texts wait in one
/// queue; whenever a slot is free, the next batch takes up to `batchSize` of them, whoever they
/// came from. Alone, a call is sent at once; under load, the calls that queued while every slot
/// was busy travel together, so batching costs no latency and concurrency stays bounded.
public actor EmbeddingQueue {
    public typealias Send = @Sendable ([String]) async throws -> [[Float]]

    private struct Item: Sendable {
        let text: String
        let caller: Int
        let position: Int
    }

    /// One `embed` call: its results as they arrive, and the continuation to resume when all have.
    private struct Caller {
        var results: [[Float]?]
        var remaining: Int
        let continuation: CheckedContinuation<[[Float]], any Error>
    }

    private let slots: Int
    private let batchSize: Int
    private let send: Send
    private var queue: [Item] = []
    private var head = 0
    private var inFlight = 0
    private var callers: [Int: Caller] = [:]
    private var nextCaller = 0

    public init(slots: Int, batchSize: Int, send: @escaping Send) {
        self.slots = slots
        self.batchSize = batchSize
        self.send = send
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let caller = nextCaller
            nextCaller += 1
            callers[caller] = Caller(results: Array(repeating: nil, count: texts.count), remaining: texts.count, continuation: continuation)
            queue.append(contentsOf: texts.enumerated().map { Item(text: $1, caller: caller, position: $0) })
            pump()
        }
    }

    private func pump() {
        while inFlight < slots {
            var batch: [Item] = []
            while batch.count < batchSize, head < queue.count {
                let item = queue[head]
                head += 1
                // A caller that already failed needs nothing more.
                if callers[item.caller] != nil { batch.append(item) }
            }
            if head > 1024, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            guard !batch.isEmpty else { return }
            inFlight += 1
            let sending = batch
            Task { await run(sending) }
        }
    }

    private func run(_ batch: [Item]) async {
        do {
            let vectors = try await send(batch.map(\.text))
            // `send` checks the count; a short answer must still never leave a caller waiting.
            guard vectors.count == batch.count else { throw EmbeddingQueueError.shortAnswer }
            for (item, vector) in zip(batch, vectors) { deliver(vector, to: item) }
        } catch {
            for item in batch { fail(item.caller, error) }
        }
        inFlight -= 1
        pump()
    }

    private func deliver(_ vector: [Float], to item: Item) {
        guard var caller = callers[item.caller] else { return }
        caller.results[item.position] = vector
        caller.remaining -= 1
        if caller.remaining == 0 {
            callers[item.caller] = nil
            caller.continuation.resume(returning: caller.results.map { $0! })
        } else {
            callers[item.caller] = caller
        }
    }

    private func fail(_ id: Int, _ error: any Error) {
        guard let caller = callers.removeValue(forKey: id) else { return }
        caller.continuation.resume(throwing: error)
    }
}

enum EmbeddingQueueError: Error {
    case shortAnswer
}
