import Foundation
import GRDB
import SomaCore

/// Word search's inverted index in the data file, kept in the record's transaction: a posting per
/// (namespace, word, memory) with the word's count, the memory's length and its impact (the order
/// a very common word's holders are read in, `WordSearchBounds`), how many memories hold each word,
/// and the changes made to each word (so a search knows whether the holders `WordHeads` kept still
/// hold), a length per memory, and per namespace the memory count and total length. Ranking uses
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
                """
                INSERT INTO word_terms(namespace, term, documents, changes) VALUES (?, ?, 1, 1)
                ON CONFLICT DO UPDATE SET documents = documents + 1, changes = changes + 1
                """,
                [namespace, term])
        }
        try count(db, namespace, documents: 1, length: words.length)
    }

    /// A word's strongest holders, from `heads` when it kept them at the word's current changes.
    private static func holders(
        _ db: Database, namespace: String, term: String, holding: Int, changes: Int64, heads: WordHeads<Int64>
    ) throws -> [WordHolder<Int64>] {
        let kept = heads.keeps(holding: holding)
        if kept, let holders = heads.holders(namespace: namespace, word: term, changes: changes) { return holders }
        var holders: [WordHolder<Int64>] = []
        holders.reserveCapacity(min(holding, WordSearchBounds.postingsPerWord))
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT doc, frequency, length FROM word_postings WHERE namespace = ? AND term = ? ORDER BY impact DESC LIMIT ?"),
            arguments: [namespace, term, WordSearchBounds.postingsPerWord])
        while let row = try rows.next() { holders.append(WordHolder(document: row[0], frequency: row[1], length: row[2])) }
        holders.sort { $0.document < $1.document }  // the order `WordTally` merges in
        if kept { heads.keep(holders, namespace: namespace, word: term, changes: changes) }
        return holders
    }

    /// Gives the leading candidates the exact weight of words read in part that they hold beyond
    /// the holders read: from lookups `heads` kept where it has them, the rest from the covering
    /// (doc, term, ...) index (a few entries per memory instead of the words' long runs), kept in turn.
    private static func complete(
        _ tally: inout WordTally<Int64>, _ db: Database, namespace: String, unread: (documents: [Int64], terms: [String]),
        changes: [String: Int64], heads: WordHeads<Int64>
    ) throws {
        var unknown: Set<Int64> = []
        for term in unread.terms {
            let known = heads.probes(namespace: namespace, word: term, changes: changes[term]!, of: unread.documents)
            for (document, probe) in zip(unread.documents, known) {
                guard let probe else {
                    unknown.insert(document)
                    continue
                }
                if let holder = probe {
                    tally.add(.init(term: term, document: document, frequency: Int(holder.frequency), length: Int(holder.length)))
                }
            }
        }
        guard !unknown.isEmpty else { return }
        let docs = SQLiteRecords.paddedList(unknown.sorted()), terms = SQLiteRecords.paddedList(unread.terms)
        let statement = try SQLiteRecords.listStatement(
            db,
            """
            SELECT doc, term, frequency, length FROM word_postings INDEXED BY word_postings_doc
            WHERE doc IN (\(docs.marks)) AND term IN (\(terms.marks)) AND +namespace = ?
            """, largestList: max(docs.size, terms.size))
        var found: [String: [Int64: WordHolder<Int64>?]] = [:]
        for term in unread.terms { found[term] = Dictionary(uniqueKeysWithValues: unknown.map { ($0, nil) }) }
        let rows = try Row.fetchCursor(statement, arguments: docs.arguments + terms.arguments + [namespace])
        while let row = try rows.next() {
            let posting = WordTally<Int64>.Posting(term: row[1], document: row[0], frequency: row[2], length: row[3])
            tally.add(posting)
            found[posting.term]?[posting.document] = WordHolder(document: posting.document, frequency: posting.frequency, length: posting.length)
        }
        for (term, probes) in found { heads.keep(probes: probes, namespace: namespace, word: term, changes: changes[term]!) }
    }

    static func unindex(_ db: Database, doc: Int64) throws {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT namespace, length FROM word_documents WHERE doc = ?"), arguments: [doc])
        else { return }
        let namespace: String = row["namespace"]
        for term in try String.fetchAll(db.cachedStatement(sql: "SELECT term FROM word_postings WHERE doc = ?"), arguments: [doc]) {
            try db.run("UPDATE word_terms SET documents = documents - 1, changes = changes + 1 WHERE namespace = ? AND term = ?", [namespace, term])
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

    static func search(
        _ db: Database, namespace: String, query: WordQuery, scoring bm25: BM25, type: MemoryType?, limit: Int, heads: WordHeads<Int64>
    ) throws -> WordMatches {
        let terms = Array(query.terms.prefix(WordSearchBounds.queryWords))
        guard !terms.isEmpty,
            let stats = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT documents, length FROM word_stats WHERE namespace = ?"), arguments: [namespace]),
            (stats["documents"] as Int) > 0
        else { return .none }
        let documents: Int = stats["documents"]
        let averageLength = Double(stats["length"] as Int) / Double(documents)
        var holding: [String: Int] = [:]
        var changes: [String: Int64] = [:]
        let termRow = try db.cachedStatement(sql: "SELECT documents, changes FROM word_terms WHERE namespace = ? AND term = ?")
        for term in terms {
            guard let row = try Row.fetchOne(termRow, arguments: [namespace, term]), (row[0] as Int) > 0 else { continue }
            holding[term] = row[0]
            changes[term] = row[1]
        }
        let idf = terms.map { bm25.idf(documents: documents, holding: holding[$0] ?? 0) }
        let fullScore = idf.reduce(0, +)
        let present = zip(terms, idf).filter { holding[$0.0] != nil }
        let required = query.requiredTerms
        guard !present.isEmpty, required.allSatisfy({ holding[$0] != nil }) else { return WordMatches(hits: [], fullScore: fullScore) }

        // Each word's holders, at most `postingsPerWord` of its strongest, summed per memory in
        // process: a merge of lists kept sorted beats SQL's GROUP BY, which sorts every posting read.
        var tally = WordTally<Int64>(
            idf: Dictionary(uniqueKeysWithValues: present.map { ($0.0, $0.1) }), required: required, scoring: bm25, averageLength: averageLength)
        for (term, _) in present {
            tally.add(
                term, holders: try holders(db, namespace: namespace, term: term, holding: holding[term]!, changes: changes[term]!, heads: heads))
        }
        let truncated = present.map(\.0).filter { holding[$0]! > WordSearchBounds.postingsPerWord }
        let unread = tally.unread(of: truncated, among: WordSearchBounds.completedCandidates(limit))
        if !unread.documents.isEmpty {
            try complete(&tally, db, namespace: namespace, unread: unread, changes: changes, heads: heads)
        }
        // Records a chunk at a time, best first, until `limit` pass the type filter.
        var hits: [ScoredMemory] = []
        var ranked = tally.pages(likely: WordSearchBounds.pageSize(limit, typed: type != nil))
        while hits.count < limit {
            let chunk = ranked.next(WordSearchBounds.pageSize(limit - hits.count, typed: type != nil))
            guard !chunk.isEmpty else { break }
            let docs = SQLiteRecords.paddedList(chunk.map(\.document))
            var records: [Int64: Memory] = [:]
            let statement = try SQLiteRecords.listStatement(
                db, "SELECT \(SQLiteRecords.columns), rowid FROM memories WHERE rowid IN (\(docs.marks))", largestList: docs.size)
            let rows = try Row.fetchCursor(statement, arguments: docs.arguments)
            while let row = try rows.next() { records[row[SQLiteRecords.columnsAfter]] = try SQLiteRecords.memory(row) }
            hits += chunk.compactMap { hit in
                records[hit.document].flatMap { type == nil || $0.type == type ? ScoredMemory(memory: $0, score: hit.score) : nil }
            }
        }
        hits = Array(hits.prefix(limit))
        return WordMatches(hits: hits, fullScore: fullScore)
    }
}
