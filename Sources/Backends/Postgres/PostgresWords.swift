import Foundation
import Logging
import PostgresNIO
import SomaCore

/// Word search's inverted index in PostgreSQL, written in the record's transaction: the same shape
/// and BM25 as SQLite's (`SQLiteWords`), so rankings agree across backends. Namespace statistics and
/// how many memories hold each word are appended as deltas (concurrent writers would queue on a
/// counter row per namespace or word) and folded with the record counts (`PostgresStorage.foldCounts`).
enum PostgresWords {
    /// A memory's postings as the statements bind them; `averageLength` (its namespace's, when
    /// known) orders them.
    struct Postings {
        let terms: [String]
        let frequencies: [Int]
        let impacts: [Double]
        let length: Int

        init(_ payload: JSONObject, averageLength: Double) {
            let words = DocumentWords(payload)
            terms = Array(words.frequencies.keys)
            frequencies = terms.map { words.frequencies[$0]! }
            impacts = frequencies.map { BM25.impact(frequency: $0, length: words.length, averageLength: averageLength) }
            length = words.length
        }
    }

    /// Indexes a memory's words (a new record's are written by its own insert, `PostgresStorage.write`).
    static func index(_ memory: Memory, averageLength: Double, on connection: PostgresConnection, logger: Logger) async throws {
        let postings = Postings(memory.payload, averageLength: averageLength)
        let (terms, frequencies, impacts, length) = (postings.terms, postings.frequencies, postings.impacts, postings.length)
        try await connection.query(
            """
            WITH document AS (
                INSERT INTO soma_word_documents (memory_id, namespace, length) VALUES (\(memory.id), \(memory.namespace), \(length))
            ), postings AS (
                INSERT INTO soma_word_postings (namespace, term, impact, memory_id, frequency, length)
                SELECT \(memory.namespace), w.term, w.impact, \(memory.id), w.frequency, \(length)
                FROM unnest(\(terms)::text[], \(frequencies)::int[], \(impacts)::float8[]) AS w(term, frequency, impact)
            ), holders AS (
                INSERT INTO soma_word_term_deltas (namespace, term, documents)
                SELECT \(memory.namespace), w.term, 1 FROM unnest(\(terms)::text[]) AS w(term)
            )
            INSERT INTO soma_word_stat_deltas (namespace, documents, length) VALUES (\(memory.namespace), 1, \(length))
            """, logger: logger)
    }

    static func unindex(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            WITH gone AS (
                DELETE FROM soma_word_documents WHERE memory_id = \(id) RETURNING namespace, length
            ), postings AS (
                DELETE FROM soma_word_postings WHERE memory_id = \(id) RETURNING namespace, term
            ), holders AS (
                INSERT INTO soma_word_term_deltas (namespace, term, documents) SELECT namespace, term, -1 FROM postings
            )
            INSERT INTO soma_word_stat_deltas (namespace, documents, length) SELECT namespace, -1, -length FROM gone
            """, logger: logger)
    }

    /// Namespaces' average lengths, read once per transaction: impacts need only an order.
    struct AverageLengths {
        private var known: [String: Double] = [:]

        mutating func of(_ namespace: String, on connection: PostgresConnection, logger: Logger) async throws -> Double {
            if let average = known[namespace] { return average }
            var average = 0.0
            for try await (documents, length) in try await connection.query(statistics(namespace), logger: logger).decode((Int, Int).self)
            where documents > 0 {
                average = Double(length) / Double(documents)
            }
            known[namespace] = average
            return average
        }
    }

    /// A namespace's memory count and total length.
    static func statistics(_ namespace: String) -> PostgresQuery {
        """
        SELECT coalesce(sum(documents), 0)::bigint, coalesce(sum(length), 0)::bigint FROM (
            SELECT documents, length FROM soma_word_stats WHERE namespace = \(namespace)
            UNION ALL SELECT documents, length FROM soma_word_stat_deltas WHERE namespace = \(namespace)) s
        """
    }

    /// Every matching memory's id, best first, and the query's full score; the caller loads the
    /// records. Postings are summed in process as on SQLite (`WordTally`).
    static func search(
        namespace: String, query: WordQuery, scoring bm25: BM25, limit: Int, client: PostgresClient, logger: Logger
    ) async throws -> (ranked: WordTally<UUID>.RankedPages, fullScore: Double) {
        let terms = Array(query.terms.prefix(WordSearchBounds.queryWords))
        guard !terms.isEmpty else { return (.none, 0) }
        var documents = 0, totalLength = 0
        for try await (count, length) in try await client.query(statistics(namespace), logger: logger).decode((Int, Int).self) {
            (documents, totalLength) = (count, length)
        }
        guard documents > 0 else { return (.none, 0) }
        var holding: [String: Int] = [:]
        for try await (term, count) in try await client.query(
            """
            SELECT term, sum(documents)::int FROM (
                SELECT term, documents FROM soma_word_terms WHERE namespace = \(namespace) AND term = ANY(\(terms)::text[])
                UNION ALL SELECT term, documents FROM soma_word_term_deltas WHERE namespace = \(namespace) AND term = ANY(\(terms)::text[])) s
            GROUP BY term HAVING sum(documents) > 0
            """,
            logger: logger
        ).decode((String, Int).self) {
            holding[term] = count
        }
        let idf = terms.map { bm25.idf(documents: documents, holding: holding[$0] ?? 0) }
        let fullScore = idf.reduce(0, +)
        let required = query.requiredTerms
        let present = terms.filter { holding[$0] != nil }
        guard !present.isEmpty, required.allSatisfy({ holding[$0] != nil }) else { return (.none, fullScore) }
        var tally = WordTally<UUID>(
            idf: Dictionary(uniqueKeysWithValues: zip(terms, idf).filter { holding[$0.0] != nil }), required: required, scoring: bm25,
            averageLength: Double(totalLength) / Double(documents))
        let capped = try await client.query(
            """
            SELECT w.term, p.memory_id, p.frequency, p.length FROM unnest(\(present)::text[]) AS w(term)
            CROSS JOIN LATERAL (
                SELECT memory_id, frequency, length FROM soma_word_postings
                WHERE namespace = \(namespace) AND term = w.term ORDER BY impact DESC LIMIT \(WordSearchBounds.postingsPerWord)) p
            """, logger: logger)
        var holders: [String: [WordHolder<UUID>]] = [:]
        for try await (term, id, frequency, length) in capped.decode((String, UUID, Int, Int).self) {
            holders[term, default: []].append(WordHolder(document: id, frequency: frequency, length: length))
        }
        for (term, held) in holders { tally.add(term, holders: held) }
        let truncated = present.filter { holding[$0]! > WordSearchBounds.postingsPerWord }
        let unread = tally.unread(of: truncated, among: WordSearchBounds.completedCandidates(limit))
        if !unread.documents.isEmpty {
            let rest = try await client.query(
                """
                SELECT term, memory_id, frequency, length FROM soma_word_postings
                WHERE memory_id = ANY(\(unread.documents)) AND namespace = \(namespace) AND term = ANY(\(unread.terms)::text[])
                """, logger: logger)
            for try await (term, id, frequency, length) in rest.decode((String, UUID, Int, Int).self) {
                tally.add(.init(term: term, document: id, frequency: frequency, length: length))
            }
        }
        return (tally.pages(likely: WordSearchBounds.pageSize(limit, typed: false)), fullScore)
    }
}
