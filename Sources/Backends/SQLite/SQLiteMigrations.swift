import GRDB
import Logging

/// Versioned schema changes, applied in order at start-up; an older data file is upgraded in place.
enum SQLiteMigrations {
    static let versions = [
        "v1_records", "v2_search_and_counts", "v3_embedding_upkeep", "v4_word_index", "v5_recent", "v6_word_changes", "v7_vector_values",
        "v8_entries_token",
    ]

    /// A generation's vector tables (v1 made generation 0's; `soma reindex` makes later ones):
    /// each vector's entry, and the vectors in `values`, or inline in the entries where `values` is
    /// nil (as v1 kept them, with an index on (namespace, label) that no query reads).
    static func vectorTables(vectors: String, values: String?, meta: String, ifMissing: Bool) -> String {
        let guarded = ifMissing ? "IF NOT EXISTS " : ""
        let split = values.map { valuesTable($0, guarded) } ?? "CREATE INDEX \(guarded)\(vectors)_namespace ON \(vectors)(namespace, label);\n"
        return entriesTable(vectors, guarded, inline: values == nil) + split
            + "CREATE TABLE \(guarded)\(meta) (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);\n"
    }

    private static func entriesTable(_ name: String, _ guarded: String, inline: Bool) -> String {
        """
        CREATE TABLE \(guarded)\(name) (
            id TEXT PRIMARY KEY NOT NULL,
            namespace TEXT NOT NULL,
            type TEXT NOT NULL,
            version INTEGER NOT NULL,
            payload TEXT NOT NULL,
            label INTEGER NOT NULL\(inline ? ",\n    vector BLOB NOT NULL" : "")
        );

        """
    }

    private static func valuesTable(_ name: String, _ guarded: String) -> String {
        "CREATE TABLE \(guarded)\(name) (id TEXT PRIMARY KEY NOT NULL, vector BLOB NOT NULL);\n"
    }

    /// Moves a generation's vectors out of its entries table into a table of their own (`values`),
    /// keyed by the same id: a start-up reads every entry (ids, labels, payloads) but hardly any
    /// vector, and with the vectors inline that scan read the whole 2 GB table at a million. The
    /// entries are copied into a new table: dropping the column in place left the rows in as many
    /// pages, as slow to scan. The unread (namespace, label) index goes with the old table: one
    /// B-tree less for each write, which now writes two tables. Tables already split are left as
    /// they are.
    static func separateVectors(entries: String, values: String, _ db: Database) throws {
        guard try db.columns(in: entries).contains(where: { $0.name == "vector" }) else { return }
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(entries)") ?? 0
        if count > 0 {
            Logger(label: "soma.sqlite").notice(
                "moving the stored vectors into a table of their own, once (one to two minutes a million); the space they leave is reused by new writes",
                metadata: ["vectors": "\(count)", "table": "\(entries)"])
        }
        let slim = entries + "_slim"
        try db.execute(
            sql: valuesTable(values, "IF NOT EXISTS ") + "INSERT OR REPLACE INTO \(values)(id, vector) SELECT id, vector FROM \(entries);\n"
                + entriesTable(slim, "", inline: false) + """
                    INSERT INTO \(slim)(id, namespace, type, version, payload, label) SELECT id, namespace, type, version, payload, label FROM \(entries);
                    DROP TABLE \(entries);
                    ALTER TABLE \(slim) RENAME TO \(entries);
                    """)
    }

    /// Triggers that give a generation's entries table a fresh random change token (a row of
    /// `meta`) at each change, by any writer: `EntrySnapshot` trusts its file only while the table
    /// still has the token the file was taken at. Created after `separateVectors`, whose new
    /// table would not keep them.
    static func changeToken(entries: String, meta: String) -> String {
        let key = EntrySnapshot.tokenKey
        return "INSERT OR IGNORE INTO \(meta)(key, value) VALUES ('\(key)', hex(randomblob(8)));\n"
            + ["INSERT", "UPDATE", "DELETE"].map { change in
                """
                CREATE TRIGGER IF NOT EXISTS \(entries)_\(change.lowercased())_token AFTER \(change) ON \(entries)
                BEGIN UPDATE \(meta) SET value = hex(randomblob(8)) WHERE key = '\(key)'; END;

                """
            }.joined()
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1_records") { db in
            try db.execute(
                sql: """
                    CREATE TABLE memories (
                        id TEXT PRIMARY KEY NOT NULL,
                        namespace TEXT NOT NULL,
                        coord TEXT NOT NULL,
                        coordinate TEXT NOT NULL,
                        dims INTEGER NOT NULL,
                        c0 REAL NOT NULL,
                        type TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        importance REAL NOT NULL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        version INTEGER NOT NULL,
                        expires_at REAL,
                        embedding_model TEXT
                    );
                    CREATE UNIQUE INDEX memories_namespace_coord ON memories(namespace, coord);
                    CREATE INDEX memories_namespace_box ON memories(namespace, dims, c0);
                    CREATE TABLE links (
                        namespace TEXT NOT NULL,
                        from_coord TEXT NOT NULL,
                        to_coord TEXT NOT NULL,
                        type TEXT NOT NULL,
                        weight REAL NOT NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (namespace, from_coord, to_coord, type)
                    );
                    CREATE INDEX links_target ON links(namespace, to_coord);
                    CREATE TABLE outbox (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        namespace TEXT NOT NULL,
                        event TEXT NOT NULL
                    );
                    """ + vectorTables(vectors: "vectors", values: nil, meta: "vector_meta", ifMissing: false))
        }
        migrator.registerMigration("v2_search_and_counts") { db in
            // Full-text search over payload string values (trigram: substring and exact matching),
            // counters for /stats, and an index for the expiry sweep.
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE memory_text USING fts5(text, tokenize = 'trigram');
                    INSERT INTO memory_text(rowid, text) SELECT rowid, payload FROM memories;
                    CREATE TABLE counts (
                        namespace TEXT NOT NULL,
                        type TEXT NOT NULL,
                        total INTEGER NOT NULL,
                        PRIMARY KEY (namespace, type)
                    );
                    INSERT INTO counts(namespace, type, total) SELECT namespace, type, COUNT(*) FROM memories GROUP BY namespace, type;
                    CREATE INDEX memories_expiry ON memories(expires_at) WHERE expires_at IS NOT NULL;
                    CREATE INDEX memories_namespace_id ON memories(namespace, id);
                    """)
            // Rows written by v1 indexed their raw payload JSON; index their string values instead.
            let rows = try Row.fetchAll(db, sql: "SELECT rowid, payload FROM memories")
            for row in rows {
                let payload: String = row["payload"]
                try db.execute(
                    sql: "UPDATE memory_text SET text = ? WHERE rowid = ?", arguments: [SearchText.of(payloadJSON: payload), row["rowid"] as Int64])
            }
        }
        migrator.registerMigration("v3_embedding_upkeep") { db in
            // Finding records to (re)embed without a scan, and the service's own values.
            try db.execute(
                sql: """
                    CREATE INDEX memories_embedding_model ON memories(embedding_model, id);
                    CREATE TABLE service_values (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    """)
        }
        migrator.registerMigration("v4_word_index") { db in
            // Word search (BM25): see SQLiteWords. Existing records are indexed by v6, whose
            // column the index writes.
            try db.execute(
                sql: """
                    CREATE TABLE word_postings (
                        namespace TEXT NOT NULL,
                        term TEXT NOT NULL,
                        impact REAL NOT NULL,
                        doc INTEGER NOT NULL,
                        frequency INTEGER NOT NULL,
                        length INTEGER NOT NULL,
                        PRIMARY KEY (namespace, term, impact DESC, doc)
                    ) WITHOUT ROWID;
                    CREATE INDEX word_postings_doc ON word_postings(doc, term, frequency, length);
                    CREATE TABLE word_terms (namespace TEXT NOT NULL, term TEXT NOT NULL, documents INTEGER NOT NULL, PRIMARY KEY (namespace, term)) WITHOUT ROWID;
                    CREATE TABLE word_documents (doc INTEGER PRIMARY KEY, namespace TEXT NOT NULL, length INTEGER NOT NULL);
                    CREATE TABLE word_stats (namespace TEXT PRIMARY KEY NOT NULL, documents INTEGER NOT NULL, length INTEGER NOT NULL);
                    """)
        }
        migrator.registerMigration("v5_recent") { db in
            // The most recently written memories (MCP's resource list) without a scan.
            try db.execute(sql: "CREATE INDEX memories_recent ON memories(namespace, updated_at DESC, id)")
        }
        migrator.registerMigration("v6_word_changes") { db in
            // Each word's changes, counted in the record's transaction: a search reads it in its own
            // snapshot to know whether the holders it kept from an earlier search still hold (`WordHeads`).
            try db.execute(sql: "ALTER TABLE word_terms ADD COLUMN changes INTEGER NOT NULL DEFAULT 0")
            // Records a file from before v4 holds are indexed here, in the migration's transaction.
            let rows = try Row.fetchCursor(
                db, sql: "SELECT rowid, namespace, payload FROM memories WHERE rowid NOT IN (SELECT doc FROM word_documents)")
            while let row = try rows.next() {
                try SQLiteWords.index(db, doc: row["rowid"], namespace: row["namespace"], payload: try SQLiteRecords.payload(row["payload"]))
            }
        }
        migrator.registerMigration("v7_vector_values") { db in
            try separateVectors(entries: "vectors", values: "vector_values", db)
        }
        migrator.registerMigration("v8_entries_token") { db in
            try db.execute(sql: changeToken(entries: "vectors", meta: "vector_meta"))
        }
        return migrator
    }
}
