import Foundation
import GRDB
import SomaCore

/// Durable storage in one SQLite file (WAL, synchronous=FULL): each acknowledged write is
/// committed before the answer goes out, and concurrent writes share commits.
public final class SQLiteStorage: MemoryStorage, WordSearching {
    let database: SQLiteDatabase
    public var wordSearching: (any WordSearching)? { self }
    /// The index in the same file writes its vectors in the records' transactions.
    public var transactionDomain: ObjectIdentifier? { ObjectIdentifier(database) }
    private var pool: DatabasePool { database.pool }
    private var committer: GroupCommitter { database.committer }

    /// Common words' holders between searches (see `WordHeads`).
    let wordHeads: WordHeads<Int64>

    public init(database: SQLiteDatabase, wordHeads: WordHeads<Int64> = WordHeads()) {
        self.database = database
        self.wordHeads = wordHeads
    }

    // MARK: Writes

    public func upsert(_ drafts: [MemoryDraft], at now: Date) async throws -> [Memory] {
        try await committer.write { db in try Self.upsert(db, drafts, at: now) }
    }

    /// The records and their events, inside a transaction the caller holds.
    static func upsert(_ db: Database, _ drafts: [MemoryDraft], at now: Date) throws -> [Memory] {
        try drafts.map { draft in
            let existing = try fetch(db, id: draft.id)
            let memory = draft.record(replacing: existing, at: now)
            try save(db, memory, replacing: existing)
            try record(db, existing == nil ? .created : .updated, memory, at: now)
            return memory
        }
    }

    public func delete(namespace: String, coordinates: [Coordinate], at now: Date) async throws -> [Memory] {
        try await committer.write { db in
            try coordinates.compactMap { coordinate in
                try Self.remove(db, id: MemoryID.make(namespace: namespace, coordinate: coordinate), at: now)
            }
        }
    }

    public func addLink(namespace: String, link: Link) async throws {
        try await committer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO links(namespace, from_coord, to_coord, type, weight, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(namespace, from_coord, to_coord, type) DO UPDATE SET weight = excluded.weight, created_at = excluded.created_at
                    """,
                arguments: [namespace, link.from.canonical, link.to.canonical, link.type, link.weight, link.createdAt.timeIntervalSinceReferenceDate])
            if let source = try Self.fetch(db, id: MemoryID.make(namespace: namespace, coordinate: link.from)) {
                try Self.record(db, .linked, source, at: link.createdAt)
            }
        }
    }

    public func deleteExpired(before now: Date, limit: Int) async throws -> [Memory] {
        try await committer.write { db in
            let ids = try String.fetchAll(
                db, sql: "SELECT id FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?",
                arguments: [now.timeIntervalSinceReferenceDate, limit])
            return try ids.compactMap { try Self.remove(db, id: UUID(uuidString: $0)!, at: now) }
        }
    }

    public func markRelayed(_ sequence: [Int64]) async throws {
        guard !sequence.isEmpty else { return }
        try await committer.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE sequence IN (\(sequence.map(String.init).joined(separator: ",")))")
        }
    }

    public func memoriesToEmbed(notEmbeddedWith model: String?, after cursor: UUID?, limit: Int) async throws -> [Memory] {
        let after = cursor.map(SQLiteRecords.id) ?? ""
        return try await pool.read { db in
            // One seek on the (embedding_model, id) index per other model (found by seeks too), the
            // next ids of each merged: a condition on the model with `ORDER BY id` had the planner
            // walk the id index over every record, 3.4 s at a million, each repair interval.
            var others: [String] = []
            if let model {
                var below = try String.fetchOne(db, sql: "SELECT min(embedding_model) FROM memories WHERE embedding_model IS NOT NULL")
                while let other = below {
                    if other != model { others.append(other) }
                    below = try String.fetchOne(db, sql: "SELECT min(embedding_model) FROM memories WHERE embedding_model > ?", arguments: [other])
                }
            }
            var rows = try Row.fetchAll(
                db, sql: "SELECT \(SQLiteRecords.columns) FROM memories WHERE embedding_model IS NULL AND id > ? ORDER BY id LIMIT ?",
                arguments: [after, limit])
            for other in others {
                rows += try Row.fetchAll(
                    db, sql: "SELECT \(SQLiteRecords.columns) FROM memories WHERE embedding_model = ? AND id > ? ORDER BY id LIMIT ?",
                    arguments: [other, after, limit])
            }
            return try rows.sorted { ($0["id"] as String) < ($1["id"] as String) }.prefix(limit).map(SQLiteRecords.memory)
        }
    }

    public func recordEmbedding(_ versions: [RecordVersion], model: String?) async throws {
        guard !versions.isEmpty else { return }
        try await committer.write { db in
            for record in versions {
                try db.execute(
                    sql: "UPDATE memories SET embedding_model = ? WHERE id = ? AND version = ?",
                    arguments: [model, SQLiteRecords.id(record.id), record.version])
            }
        }
    }

    public func serviceValue(_ key: String) async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM service_values WHERE key = ?", arguments: [key]) }
    }

    public func setServiceValues(_ values: [String: String?]) async throws {
        try await committer.write { db in
            for (key, value) in values {
                if let value {
                    try db.execute(sql: "INSERT OR REPLACE INTO service_values(key, value) VALUES (?, ?)", arguments: [key, value])
                } else {
                    try db.execute(sql: "DELETE FROM service_values WHERE key = ?", arguments: [key])
                }
            }
        }
    }

    static func fetch(_ db: Database, id: UUID) throws -> Memory? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(SQLiteRecords.columns) FROM memories WHERE id = ?"), arguments: [SQLiteRecords.id(id)])
            .map(SQLiteRecords.memory)
    }

    static func save(_ db: Database, _ memory: Memory, replacing existing: Memory?) throws {
        try db.run(
            """
            INSERT INTO memories(id, namespace, coord, coordinate, dims, c0, type, payload, importance, created_at, updated_at, version, expires_at, embedding_model)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET type = excluded.type, payload = excluded.payload, importance = excluded.importance,
                created_at = excluded.created_at, updated_at = excluded.updated_at, version = excluded.version, expires_at = excluded.expires_at,
                embedding_model = excluded.embedding_model
            """,
            [
                SQLiteRecords.id(memory.id), memory.namespace, memory.coordinate.canonical,
                SQLiteRecords.json(memory.coordinate), memory.coordinate.dimensions,
                memory.coordinate.values[0], memory.type.rawValue, SQLiteRecords.json(memory.payload), memory.importance,
                memory.createdAt.timeIntervalSinceReferenceDate, memory.updatedAt.timeIntervalSinceReferenceDate, memory.version,
                memory.expiresAt?.timeIntervalSinceReferenceDate, memory.embeddingModel,
            ])
        let rowid = try Int64.fetchOne(db.cachedStatement(sql: "SELECT rowid FROM memories WHERE id = ?"), arguments: [SQLiteRecords.id(memory.id)])!
        if existing != nil { try db.run("DELETE FROM memory_text WHERE rowid = ?", [rowid]) }
        try db.run("INSERT INTO memory_text(rowid, text) VALUES (?, ?)", [rowid, SearchText.of(memory.payload)])
        if existing != nil { try SQLiteWords.unindex(db, doc: rowid) }
        try SQLiteWords.index(db, doc: rowid, namespace: memory.namespace, payload: memory.payload)
        if let existing { try count(db, existing.namespace, existing.type, -1) }
        try count(db, memory.namespace, memory.type, 1)
    }

    static func remove(_ db: Database, id: UUID, at now: Date) throws -> Memory? {
        guard let memory = try fetch(db, id: id) else { return nil }
        let key = SQLiteRecords.id(id)
        if let rowid = try Int64.fetchOne(db.cachedStatement(sql: "SELECT rowid FROM memories WHERE id = ?"), arguments: [key]) {
            try db.run("DELETE FROM memory_text WHERE rowid = ?", [rowid])
            try SQLiteWords.unindex(db, doc: rowid)
        }
        try db.execute(sql: "DELETE FROM memories WHERE id = ?", arguments: [key])
        try db.execute(
            sql: "DELETE FROM links WHERE namespace = ? AND (from_coord = ? OR to_coord = ?)",
            arguments: [memory.namespace, memory.coordinate.canonical, memory.coordinate.canonical])
        try count(db, memory.namespace, memory.type, -1)
        try record(db, .deleted, memory, at: now)
        return memory
    }

    static func count(_ db: Database, _ namespace: String, _ type: MemoryType, _ delta: Int) throws {
        try db.run(
            "INSERT INTO counts(namespace, type, total) VALUES (?, ?, ?) ON CONFLICT(namespace, type) DO UPDATE SET total = total + excluded.total",
            [namespace, type.rawValue, delta])
    }

    static func record(_ db: Database, _ kind: MemoryEvent.Kind, _ memory: Memory, at now: Date) throws {
        let event = String(decoding: MemoryEvent(kind, of: memory, at: now).json, as: UTF8.self)
        try db.run("INSERT INTO outbox(namespace, event) VALUES (?, ?)", [memory.namespace, event])
    }

    // MARK: Reads

    public func get(namespace: String, coordinate: Coordinate) async throws -> Memory? {
        let id = MemoryID.make(namespace: namespace, coordinate: coordinate)
        return try await database.shortRead { db in try Self.fetch(db, id: id) }
    }

    /// `+namespace` keeps SQLite from walking the namespace index instead of probing the primary
    /// key: without it, loading recall hits cost a scan of the whole namespace.
    public func get(namespace: String, ids: [UUID]) async throws -> [Memory] {
        guard !ids.isEmpty else { return [] }
        let keys = SQLiteRecords.paddedList(ids.map(SQLiteRecords.id))
        return try await database.shortRead { db in
            // Recall loads a handful of hits each time: those statements stay compiled.
            let statement = try SQLiteRecords.listStatement(
                db, "SELECT \(SQLiteRecords.columns) FROM memories WHERE +namespace = ? AND id IN (\(keys.marks))", largestList: keys.size)
            // Decoded from the cursor's row as it is read: `fetchAll` copies every row first.
            return try Array(Row.fetchCursor(statement, arguments: [namespace] + keys.arguments).map(SQLiteRecords.memory))
        }
    }

    public func list(namespace: String, type: MemoryType?, after cursor: String?, limit: Int) async throws -> MemoryPage {
        if let cursor, UUID(uuidString: cursor) == nil { throw EngineError.invalid("invalid cursor") }
        let after = cursor?.lowercased() ?? ""
        let rows = try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(SQLiteRecords.columns) FROM memories WHERE namespace = ? AND (? IS NULL OR type = ?) AND id > ? ORDER BY id LIMIT ?",
                arguments: [namespace, type?.rawValue, type?.rawValue, after, limit + 1]
            ).map(SQLiteRecords.memory)
        }
        let page = Array(rows.prefix(limit))
        return MemoryPage(memories: page, nextCursor: rows.count > limit ? page.last.map { SQLiteRecords.id($0.id) } : nil)
    }

    public func recent(namespace: String, limit: Int) async throws -> [Memory] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(SQLiteRecords.columns) FROM memories WHERE namespace = ? ORDER BY updated_at DESC, id LIMIT ?",
                arguments: [namespace, limit]
            ).map(SQLiteRecords.memory)
        }
    }

    public func range(namespace: String, min lower: Coordinate, max upper: Coordinate, type: MemoryType?, limit: Int) async throws -> [Memory] {
        try await pool.read { db in
            let cursor = try Row.fetchCursor(
                db,
                sql:
                    "SELECT \(SQLiteRecords.columns) FROM memories WHERE namespace = ? AND dims = ? AND c0 BETWEEN ? AND ? AND (? IS NULL OR type = ?) ORDER BY coord",
                arguments: [namespace, lower.dimensions, lower.values[0], upper.values[0], type?.rawValue, type?.rawValue])
            var found: [Memory] = []
            while found.count < limit, let row = try cursor.next() {
                let memory = try SQLiteRecords.memory(row)
                if memory.coordinate.isInside(min: lower, max: upper) { found.append(memory) }
            }
            return found
        }
    }

    public func wordSearch(namespace: String, query: WordQuery, scoring: BM25, type: MemoryType?, limit: Int) async throws -> WordMatches {
        try await database.shortRead { db in
            try SQLiteWords.search(db, namespace: namespace, query: query, scoring: scoring, type: type, limit: limit, heads: wordHeads)
        }
    }

    /// Trigram full-text search finds candidates (terms of three or more characters); shorter terms
    /// scan the namespace. Either way `KeywordQuery.score` decides the match and the order.
    public func keywordSearch(namespace: String, query: KeywordQuery, type: MemoryType?, limit: Int) async throws -> [Memory] {
        let candidateCap = max(limit * 20, 2000)
        let useIndex = query.term.count >= 3
        let phrase = "\"" + query.term.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let memories = try await pool.read { db in
            let sql =
                useIndex
                ? """
                SELECT \(SQLiteRecords.columns(of: "m")) FROM memory_text JOIN memories m ON m.rowid = memory_text.rowid
                WHERE memory_text MATCH ? AND +m.namespace = ? AND (? IS NULL OR m.type = ?) LIMIT ?
                """
                : "SELECT \(SQLiteRecords.columns) FROM memories WHERE namespace = ? AND (? IS NULL OR type = ?) LIMIT ?"
            let arguments: StatementArguments =
                useIndex
                ? [phrase, namespace, type?.rawValue, type?.rawValue, candidateCap]
                : [namespace, type?.rawValue, type?.rawValue, candidateCap * 10]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(SQLiteRecords.memory)
        }
        return query.rank(memories, limit: limit)
    }

    public func links(namespace: String, from: Coordinate, type: String?, limit: Int) async throws -> [Link] {
        try await links(namespace: namespace, at: from, end: "from_coord", other: "to_coord", type: type, limit: limit)
    }

    public func links(namespace: String, to: Coordinate, type: String?, limit: Int) async throws -> [Link] {
        try await links(namespace: namespace, at: to, end: "to_coord", other: "from_coord", type: type, limit: limit)
    }

    /// Links with `coordinate` at their `end` column, cheapest first.
    private func links(namespace: String, at coordinate: Coordinate, end: String, other: String, type: String?, limit: Int) async throws -> [Link] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM links WHERE namespace = ? AND \(end) = ? AND (? IS NULL OR type = ?)
                    ORDER BY weight, \(other), type LIMIT ?
                    """,
                arguments: [namespace, coordinate.canonical, type, type, limit]
            ).map { row in
                Link(
                    from: try Coordinate(parsing: row["from_coord"], maxDimensions: .max),
                    to: try Coordinate(parsing: row["to_coord"], maxDimensions: .max),
                    type: row["type"], weight: row["weight"], createdAt: Date(timeIntervalSinceReferenceDate: row["created_at"]))
            }
        }
    }

    public func counts(namespace: String) async throws -> MemoryCounts {
        try await pool.read { db in
            var counts = MemoryCounts()
            for row in try Row.fetchAll(db, sql: "SELECT type, total FROM counts WHERE namespace = ?", arguments: [namespace]) {
                if let type = MemoryType(rawValue: row["type"]) { counts.add(type, row["total"]) }
            }
            return counts
        }
    }

    public func pendingEvents(limit: Int) async throws -> [OutboxEntry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sequence, event FROM outbox ORDER BY sequence LIMIT ?", arguments: [limit]).map { row in
                OutboxEntry(sequence: row["sequence"], event: try MemoryEvent(json: Array((row["event"] as String).utf8)))
            }
        }
    }

    public func isHealthy() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }
}

extension Database {
    /// Executes a statement compiled once per connection and reused: the write path runs the same
    /// few statements for every memory.
    func run(_ sql: String, _ arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
