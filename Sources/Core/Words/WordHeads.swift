import Synchronization

/// One memory holding a word: what BM25 needs of it.
public struct WordHolder<Document: Sendable>: Sendable {
    public var document: Document
    public var frequency: UInt32
    public var length: UInt32

    @inlinable public init(document: Document, frequency: Int, length: Int) {
        self.document = document
        self.frequency = UInt32(clamping: frequency)
        self.length = UInt32(clamping: length)
    }
}

/// The strongest holders of common words (`WordSearchBounds.postingsPerWord` at most), kept between
/// searches: reading a common word's holders was most of a word search's cost, and the same few
/// common words recur across queries, while a rare word's few holders are cheap to read.
/// An entry serves only while its word's change count is the one it was read at: the storage counts
/// each word's changes beside its holder count and reads that count in the search's own snapshot,
/// so no write path has to tell the cache anything and a stale entry is never used.
public final class WordHeads<Document: Sendable>: Sendable {
    struct Key: Hashable {
        let namespace: String
        let word: String
    }

    struct Entry {
        let changes: Int64
        let holders: [WordHolder<Document>]
        var lastUse: UInt64
    }

    struct State {
        var entries: [Key: Entry] = [:]
        var held = 0
        var clock: UInt64 = 0
    }

    /// Words held by fewer memories are read each time.
    public let minimumHolders: Int
    /// Holders kept in all (16 bytes each with an integer document); the least recently used word goes first.
    public let capacity: Int
    private let state = Mutex(State())

    public init(minimumHolders: Int = 200, capacity: Int = 262_144) {
        self.minimumHolders = minimumHolders
        self.capacity = capacity
    }

    /// Whether a word held by `holding` memories is worth keeping.
    public func keeps(holding: Int) -> Bool { holding >= minimumHolders }

    /// The word's holders as read when it had made `changes` changes, if kept.
    public func holders(namespace: String, word: String, changes: Int64) -> [WordHolder<Document>]? {
        state.withLock { state in
            let key = Key(namespace: namespace, word: word)
            guard let entry = state.entries[key], entry.changes == changes else { return nil }
            state.clock += 1
            state.entries[key]?.lastUse = state.clock
            return entry.holders
        }
    }

    /// Keeps what a search read (in a snapshot where the word had made `changes` changes).
    public func keep(_ holders: [WordHolder<Document>], namespace: String, word: String, changes: Int64) {
        guard holders.count <= capacity else { return }
        state.withLock { state in
            let key = Key(namespace: namespace, word: word)
            if let old = state.entries[key] {
                // A search of an older snapshot must not replace what a newer one read.
                guard old.changes < changes else { return }
                state.held -= old.holders.count
            }
            state.clock += 1
            state.entries[key] = Entry(changes: changes, holders: holders, lastUse: state.clock)
            state.held += holders.count
            while state.held > capacity, let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                state.entries[oldest.key] = nil
                state.held -= oldest.value.holders.count
            }
        }
    }

    /// Words kept now (for tests and metrics).
    public var count: Int { state.withLock { $0.entries.count } }
}
