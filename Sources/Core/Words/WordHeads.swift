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

    /// Frequency and length in one word, for `WordHeads`' lookup tables: 0 means "does not hold"
    /// (a holder's frequency is at least 1), so a lookup takes 8 bytes beside its key instead of an
    /// optional holder's 24.
    @inlinable var packed: UInt64 { UInt64(frequency) << 32 | UInt64(length) }

    @inlinable init?(document: Document, packed: UInt64) {
        guard packed != 0 else { return nil }
        self.document = document
        self.frequency = UInt32(truncatingIfNeeded: packed >> 32)
        self.length = UInt32(truncatingIfNeeded: packed)
    }
}

/// The strongest holders of common words (`WordSearchBounds.postingsPerWord` at most), kept between
/// searches: reading a common word's holders was most of a word search's cost, and the same few
/// common words recur across queries, while a rare word's few holders are cheap to read.
/// An entry serves only while its word's change count is the one it was read at: the storage counts
/// each word's changes beside its holder count and reads that count in the search's own snapshot,
/// so no write path has to tell the cache anything and a stale entry is never used.
/// Beside a word's holders it keeps what completions looked up in it (`probes`): whether a leading
/// candidate holds the word beyond the holders read, and how often. Each lookup is an index seek;
/// the same memories lead again for the same words, and the answer holds while the word's changes
/// do (a memory gaining, losing or rewriting the word changes it). Past the capacity lookups go
/// before holders: a word in nearly every memory is looked up for every query's leading memories,
/// and at a million memories its lookups pushed out every word's holders, which were then read again.
public final class WordHeads<Document: Hashable & Sendable>: Sendable {
    // Inlinable parts, so a storage gets the lookups specialised for its document key: generic,
    // they cost 10% of a hybrid recall under perf.
    @usableFromInline struct Key: Hashable {
        @usableFromInline let namespace: String
        @usableFromInline let word: String

        @inlinable init(namespace: String, word: String) {
            self.namespace = namespace
            self.word = word
        }
    }

    @usableFromInline struct Entry {
        @usableFromInline let changes: Int64
        @usableFromInline let holders: [WordHolder<Document>]
        /// Memories looked up beyond `holders`: their holding packed (`WordHolder.packed`), 0 where
        /// they do not hold the word.
        @usableFromInline var probes: [Document: UInt64] = [:]
        @usableFromInline var lastUse: UInt64

        init(changes: Int64, holders: [WordHolder<Document>], lastUse: UInt64) {
            self.changes = changes
            self.holders = holders
            self.lastUse = lastUse
        }

        /// Holders and lookups in units of `capacity`: a lookup takes 16 bytes in its table (key and
        /// packed answer), counted twice as the table is kept at most three quarters full.
        @usableFromInline var size: Int { holders.count + lookupsSize }
        @usableFromInline var lookupsSize: Int { 2 * probes.count }
    }

    @usableFromInline struct State {
        @usableFromInline var entries: [Key: Entry] = [:]
        @usableFromInline var held = 0
        @usableFromInline var clock: UInt64 = 0

        init() {}
    }

    /// Words held by fewer memories are read each time.
    public let minimumHolders: Int
    /// Holders kept in all, a lookup counting as two (16 bytes a holder with an integer document:
    /// 16 MiB by default); past it lookups go first, then the least recently used words. At 4 MiB
    /// the lookups of the benchmark's queries at 100,000 memories did not fit (8 MiB held them):
    /// they were dropped and read from the file again and again, at 0.7-0.8 times the hybrid rate.
    public let capacity: Int
    @usableFromInline let state = Mutex(State())

    public init(minimumHolders: Int = 200, capacity: Int = 1_048_576) {
        self.minimumHolders = minimumHolders
        self.capacity = capacity
    }

    /// Whether a word held by `holding` memories is worth keeping.
    public func keeps(holding: Int) -> Bool { holding >= minimumHolders }

    /// The word's holders as read when it had made `changes` changes, if kept.
    @inlinable public func holders(namespace: String, word: String, changes: Int64) -> [WordHolder<Document>]? {
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
                state.held -= old.size
            }
            state.clock += 1
            state.entries[key] = Entry(changes: changes, holders: holders, lastUse: state.clock)
            state.held += holders.count
            state.evict(above: capacity)
        }
    }

    /// What earlier lookups found for these memories in the word at `changes`, in their order:
    /// nil where not looked up, `.some(nil)` where the memory does not hold the word.
    @inlinable public func probes(namespace: String, word: String, changes: Int64, of documents: [Document]) -> [WordHolder<Document>??] {
        state.withLock { state in
            guard let entry = state.entries[Key(namespace: namespace, word: word)], entry.changes == changes, !entry.probes.isEmpty
            else { return Array(repeating: nil, count: documents.count) }
            return documents.map { document in entry.probes[document].map { WordHolder(document: document, packed: $0) } }
        }
    }

    /// Keeps lookups a search made in the word at `changes` (only beside holders kept at those changes).
    @inlinable public func keep(probes: [Document: WordHolder<Document>?], namespace: String, word: String, changes: Int64) {
        state.withLock { state in
            let key = Key(namespace: namespace, word: word)
            guard var entry = state.entries[key], entry.changes == changes else { return }
            state.entries[key] = nil  // the table changed in place, not copied
            let before = entry.size
            entry.probes.merge(probes.lazy.map { ($0.key, $0.value?.packed ?? 0) }) { old, _ in old }
            state.held += entry.size - before
            state.entries[key] = entry
            state.evict(above: capacity)
        }
    }

    /// Words kept now (for tests and metrics).
    public var count: Int { state.withLock { $0.entries.count } }
}

extension WordHeads.State {
    /// Drops lookups, the least recently used word's first, then (holders alone too many) the least
    /// recently used words, until what is kept fits.
    @inlinable mutating func evict(above capacity: Int) {
        while held > capacity, let oldest = entries.lazy.filter({ !$0.value.probes.isEmpty }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
            held -= oldest.value.lookupsSize
            entries[oldest.key]?.probes = [:]
        }
        while held > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
            held -= oldest.value.size
        }
    }
}
