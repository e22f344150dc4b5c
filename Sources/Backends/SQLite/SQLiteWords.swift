import Foundation
import GRDB
import SomaCore

/// Word search's inverted index in the data file, kept in the record's transaction: a posting per
/// (namespace, word, memory) with the word's count, the memory's length and its impact (the order
/// a very common word's holders are read in, `WordSearchBounds`), how many memories hold each word,
/// a length per memory, and per namespace the memory count and total length. BM25 runs in SQL with
/// the namespace's own statistics (FTS5's bm25() would mix namespaces and fixes k1 and b).
enum SQLiteWords {
    static func index(_ db: Database, doc: Int64, namespace: String, payload: JSONObject) throws {
        let words = DocumentWords(payload)
        let stats = try Row.fetchOne(db.cachedStatement(sql: "SELECT documents, length FROM word_stats WHERE namespace = ?"), arguments: [namespace])
        let averageLength = stats.map { Double($0["length"] as Int) / Double(max(1, $0["documents"] as Int)) } ?? 0
        try db.run("INSERT INTO word_documents(doc, namespace, length) VALUES (?, ?, ?)", [doc, namespace, words.length])
        for (term, frequency) in words.frequencies {
            let impact = BM25.impact(frequency: frequency, length: words.length, averageLength: averageLength)
            try db.run(
                "INSERT INTO word_postings(namespace, term, impact, doc, frequency, length) VALUES (?, ?, ?, ?, ?, ?)",
                [namespace, term, impact, doc, frequency, words.length])
            try db.run(
                "INSERT INTO word_terms(namespace, term, documents) VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET documents = documents + 1",
                [namespace, term])
        }
        try count(db, namespace, documents: 1, length: words.length)
    }

    static func unindex(_ db: Database, doc: Int64) throws {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT namespace, length FROM word_documents WHERE doc = ?"), arguments: [doc]) else { return }
        let namespace: String = row["namespace"]
        for term in try String.fetchAll(db.cachedStatement(sql: "SELECT term FROM word_postings WHERE doc = ?"), arguments: [doc]) {
            try db.run("UPDATE word_terms SET documents = documents - 1 WHERE namespace = ? AND term = ?", [namespace, term])
        }
        try db.run("DELETE FROM word_postings WHERE doc = ?", [doc])
        try db.run("DELETE FROM word_documents WHERE doc = ?", [doc])
        try count(db, namespace, documents: -1, length: -(row["length"] as Int))
    }

    private static func count(_ db: Database, _ namespace: String, documents: Int, length: Int) throws {
        try db.run(
            """
            INSERT INTO word_stats(namespace, documents, length) VALUES (?, ?, ?)
            ON CONFLICT(namespace) DO UPDATE SET documents = documents + excluded.documents, length = length + excluded.length
            """, [namespace, documents, length])
    }

    static func search(_ db: Database, namespace: String, query: WordQuery, scoring bm25: BM25, type: MemoryType?, limit: Int) throws -> WordMatches {
        let terms = Array(query.terms.prefix(WordSearchBounds.queryWords))
        guard !terms.isEmpty,
              let stats = try Row.fetchOne(db.cachedStatement(sql: "SELECT documents, length FROM word_stats WHERE namespace = ?"), arguments: [namespace]),
              (stats["documents"] as Int) > 0
        else { return .none }
        let documents: Int = stats["documents"]
        let averageLength = Double(stats["length"] as Int) / Double(documents)
        var holding: [String: Int] = [:]
        for term in terms {
            let held = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT documents FROM word_terms WHERE namespace = ? AND term = ?"), arguments: [namespace, term]) ?? 0
            if held > 0 { holding[term] = held }
        }
        let idf = terms.map { bm25.idf(documents: documents, holding: holding[$0] ?? 0) }
        let fullScore = idf.reduce(0, +)
        let present = zip(terms, idf).filter { holding[$0.0] != nil }
        let required = query.requiredTerms
        guard !present.isEmpty, required.allSatisfy({ holding[$0] != nil }) else { return WordMatches(hits: [], fullScore: fullScore) }

        // Each word's holders, its strongest first and at most `postingsPerWord` of them, scored and summed per memory.
        let perWord = """
            SELECT * FROM (SELECT doc, frequency, length, ? AS idf, ? AS required FROM word_postings
                           WHERE namespace = ? AND term = ? ORDER BY impact DESC LIMIT ?)
            """
        let sql = """
            SELECT m.*, s.score FROM (
                SELECT p.doc, SUM(p.idf * p.frequency * (? + 1) / (p.frequency + ? * (1 - ? + ? * p.length / ?))) AS score
                FROM (\(Array(repeating: perWord, count: present.count).joined(separator: " UNION ALL "))) p
                \(type == nil ? "" : "JOIN memories t ON t.rowid = p.doc AND t.type = ?")
                GROUP BY p.doc
                \(required.isEmpty ? "" : "HAVING SUM(p.required) = \(required.count)")
                ORDER BY score DESC, p.doc LIMIT ?
            ) s JOIN memories m ON m.rowid = s.doc
            ORDER BY s.score DESC, s.doc
            """
        var arguments: [(any DatabaseValueConvertible)?] = [bm25.k1, bm25.k1, bm25.b, bm25.b, averageLength]
        for (term, weight) in present {
            arguments += [weight, required.contains(term) ? 1 : 0, namespace, term, WordSearchBounds.postingsPerWord]
        }
        if let type { arguments.append(type.rawValue) }
        arguments.append(limit)
        let hits = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments)).map { row in
            ScoredMemory(memory: try SQLiteRecords.memory(row), score: row["score"])
        }
        return WordMatches(hits: hits, fullScore: fullScore)
    }
}
