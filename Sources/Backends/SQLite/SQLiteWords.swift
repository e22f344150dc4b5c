import Foundation
import GRDB
import SomaCore

/// Word search's inverted index in the data file, kept in the record's transaction: a posting per
/// (namespace, word, memory) with the word's count and the memory's length, a length per memory,
/// and per namespace the memory count and total length, so BM25 runs in SQL with the namespace's
/// own statistics (FTS5's bm25() would mix namespaces and fixes k1 and b).
enum SQLiteWords {
    /// Query words beyond this many are ignored: a pasted page must not become a huge statement.
    static let maxTerms = 64

    static func index(_ db: Database, doc: Int64, namespace: String, payload: JSONObject) throws {
        let words = DocumentWords(payload)
        try db.run("INSERT INTO word_documents(doc, namespace, length) VALUES (?, ?, ?)", [doc, namespace, words.length])
        for (term, frequency) in words.frequencies {
            try db.run(
                "INSERT INTO word_postings(namespace, term, doc, frequency, length) VALUES (?, ?, ?, ?, ?)",
                [namespace, term, doc, frequency, words.length])
        }
        try count(db, namespace, documents: 1, length: words.length)
    }

    static func unindex(_ db: Database, doc: Int64) throws {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT namespace, length FROM word_documents WHERE doc = ?"), arguments: [doc]) else { return }
        try db.run("DELETE FROM word_postings WHERE doc = ?", [doc])
        try db.run("DELETE FROM word_documents WHERE doc = ?", [doc])
        try count(db, row["namespace"], documents: -1, length: -(row["length"] as Int))
    }

    private static func count(_ db: Database, _ namespace: String, documents: Int, length: Int) throws {
        try db.run(
            """
            INSERT INTO word_stats(namespace, documents, length) VALUES (?, ?, ?)
            ON CONFLICT(namespace) DO UPDATE SET documents = documents + excluded.documents, length = length + excluded.length
            """, [namespace, documents, length])
    }

    static func search(_ db: Database, namespace: String, query: WordQuery, scoring bm25: BM25, type: MemoryType?, limit: Int) throws -> WordMatches {
        let terms = Array(query.terms.prefix(maxTerms))
        guard !terms.isEmpty,
              let stats = try Row.fetchOne(db.cachedStatement(sql: "SELECT documents, length FROM word_stats WHERE namespace = ?"), arguments: [namespace]),
              (stats["documents"] as Int) > 0
        else { return .none }
        let documents: Int = stats["documents"]
        let averageLength = Double(stats["length"] as Int) / Double(documents)
        let marks = Array(repeating: "?", count: terms.count).joined(separator: ",")
        var holding: [String: Int] = [:]
        for row in try Row.fetchAll(
            db.cachedStatement(sql: "SELECT term, COUNT(*) AS n FROM word_postings WHERE namespace = ? AND term IN (\(marks)) GROUP BY term"),
            arguments: StatementArguments([namespace] + terms)) {
            holding[row["term"]] = row["n"]
        }
        let idf = terms.map { bm25.idf(documents: documents, holding: holding[$0] ?? 0) }
        let matches = WordMatches(hits: [], fullScore: idf.reduce(0, +))
        let present = terms.filter { holding[$0] != nil }
        let required = query.requiredTerms
        guard !present.isEmpty, required.allSatisfy({ holding[$0] != nil }) else { return matches }

        let weight = "CASE p.term " + present.map { _ in "WHEN ? THEN ? " }.joined() + "END"
        let presentMarks = Array(repeating: "?", count: present.count).joined(separator: ",")
        let requiredMarks = Array(repeating: "?", count: required.count).joined(separator: ",")
        let sql = """
            SELECT m.*, s.score FROM (
                SELECT p.doc, SUM(\(weight) * p.frequency * (? + 1) / (p.frequency + ? * (1 - ? + ? * p.length / ?))) AS score
                FROM word_postings p \(type == nil ? "" : "JOIN memories t ON t.rowid = p.doc AND t.type = ?")
                WHERE p.namespace = ? AND p.term IN (\(presentMarks))
                GROUP BY p.doc
                \(required.isEmpty ? "" : "HAVING COUNT(CASE WHEN p.term IN (\(requiredMarks)) THEN 1 END) = \(required.count)")
                ORDER BY score DESC, p.doc LIMIT ?
            ) s JOIN memories m ON m.rowid = s.doc
            ORDER BY s.score DESC, s.doc
            """
        var arguments: [(any DatabaseValueConvertible)?] = []
        for (term, value) in zip(terms, idf) where holding[term] != nil { arguments += [term, value] }
        arguments += [bm25.k1, bm25.k1, bm25.b, bm25.b, averageLength]
        if let type { arguments.append(type.rawValue) }
        arguments.append(namespace)
        arguments += present as [(any DatabaseValueConvertible)?]
        arguments += required as [(any DatabaseValueConvertible)?]
        arguments.append(limit)
        let hits = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments)).map { row in
            ScoredMemory(memory: try SQLiteRecords.memory(row), score: row["score"])
        }
        return WordMatches(hits: hits, fullScore: matches.fullScore)
    }
}
