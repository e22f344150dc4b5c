import Foundation

/// Word search for a storage that declares none of its own (`MemoryStorage.wordSearching` nil): the
/// namespace's records are read page by page into a `WordIndex` for each query. The ranking is the
/// reference's exactly (no per-word bound); the cost grows with the namespace, so it suits small
/// namespaces and backends written for a single purpose, not a million memories.
public struct ScannedWordSearch: WordSearching {
    let records: any MemoryRecords
    let pageSize: Int

    public init(_ records: any MemoryRecords, pageSize: Int = 1000) {
        self.records = records
        self.pageSize = pageSize
    }

    public func wordSearch(namespace: String, query: WordQuery, scoring: BM25, type: MemoryType?, limit: Int) async throws -> WordMatches {
        var index = WordIndex()
        var memories: [UUID: Memory] = [:]
        var cursor: String?
        repeat {
            let page = try await records.list(namespace: namespace, type: nil, after: cursor, limit: pageSize)
            for memory in page.memories {
                index.set(memory.id, DocumentWords(memory.payload))
                memories[memory.id] = memory
            }
            cursor = page.nextCursor
        } while cursor != nil
        return index.matches(query, scoring: scoring, type: type, limit: limit, in: memories)
    }
}

extension MemoryStorage {
    /// The storage's declared word search, or the scan when it declares none.
    public var wordSearchOrScan: any WordSearching { wordSearching ?? ScannedWordSearch(self) }
}
