import Logging
import PostgresNIO
import SomaCore

/// Versioned schema changes. Each runs once, in its own transaction, recorded in
/// `soma_schema_migrations`; all of them run under an advisory lock, so replicas that start together
/// take turns and the later ones find nothing left to do.
enum PostgresMigrations {
    /// Any fixed number: the key of the advisory lock migrations hold.
    static let lockKey: Int64 = 0x50_4D_41_5F_4D_49_47

    struct Migration {
        let version: String
        let statements: [String]
        /// Work SQL alone cannot do (word search's tokeniser is Swift), run after the statements in their transaction.
        var then: (@Sendable (PostgresConnection, Logger) async throws -> Void)?
    }

    static let all: [Migration] = [
        Migration(
            version: "001_records",
            statements: [
                """
                CREATE TABLE soma_memories (
                    id uuid PRIMARY KEY,
                    namespace text NOT NULL,
                    coord text NOT NULL,
                    coordinate double precision[] NOT NULL,
                    dims integer NOT NULL,
                    type text NOT NULL,
                    payload jsonb NOT NULL,
                    search_text text NOT NULL,
                    importance double precision NOT NULL,
                    created_us bigint NOT NULL,
                    updated_us bigint NOT NULL,
                    version integer NOT NULL,
                    expires_us bigint,
                    embedding_model text,
                    UNIQUE (namespace, coord)
                )
                """,
                "CREATE INDEX soma_memories_list ON soma_memories (namespace, id)",
                "CREATE INDEX soma_memories_box ON soma_memories (namespace, dims, (coordinate[1]))",
                "CREATE INDEX soma_memories_expiry ON soma_memories (expires_us) WHERE expires_us IS NOT NULL",
                "CREATE INDEX soma_memories_words ON soma_memories USING gin (to_tsvector('simple', search_text))",
                """
                CREATE TABLE soma_links (
                    namespace text NOT NULL,
                    from_coord text NOT NULL,
                    to_coord text NOT NULL,
                    type text NOT NULL,
                    weight double precision NOT NULL,
                    created_us bigint NOT NULL,
                    PRIMARY KEY (namespace, from_coord, to_coord, type)
                )
                """,
                "CREATE INDEX soma_links_target ON soma_links (namespace, to_coord)",
                """
                CREATE TABLE soma_outbox (
                    sequence bigserial PRIMARY KEY,
                    memory_id uuid NOT NULL,
                    event jsonb NOT NULL,
                    claimed_by uuid,
                    claimed_until timestamptz
                )
                """,
                "CREATE INDEX soma_outbox_memory ON soma_outbox (memory_id, sequence)",
                // Writers append deltas instead of updating one hot row per namespace; housekeeping folds them.
                """
                CREATE TABLE soma_count_deltas (
                    id bigserial PRIMARY KEY,
                    namespace text NOT NULL,
                    type text NOT NULL,
                    delta integer NOT NULL
                )
                """,
                """
                CREATE TABLE soma_counts (
                    namespace text NOT NULL,
                    type text NOT NULL,
                    total bigint NOT NULL,
                    PRIMARY KEY (namespace, type)
                )
                """,
            ]),
        // Substring search through trigrams when the server ships pg_trgm (managed services do);
        // without it, substring matching scans the namespace.
        Migration(
            version: "002_trigram_search",
            statements: [
                """
                DO $$
                BEGIN
                  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
                    CREATE EXTENSION IF NOT EXISTS pg_trgm;
                    CREATE INDEX soma_memories_substrings ON soma_memories USING gin (lower(search_text) gin_trgm_ops);
                  END IF;
                END
                $$
                """
            ]),
        // Finding records to (re)embed without a scan, and the service's own values.
        Migration(
            version: "003_embedding_upkeep",
            statements: [
                "CREATE INDEX soma_memories_embedding_model ON soma_memories (embedding_model, id)",
                "CREATE TABLE soma_service_values (key text PRIMARY KEY, value text NOT NULL)",
            ]),
        // Word search (BM25): see PostgresWords. Existing records are indexed by 006, whose table the index writes.
        Migration(
            version: "004_word_index",
            statements: [
                """
                CREATE TABLE soma_word_postings (
                    namespace text NOT NULL,
                    term text NOT NULL,
                    impact double precision NOT NULL,
                    memory_id uuid NOT NULL,
                    frequency integer NOT NULL,
                    length integer NOT NULL,
                    PRIMARY KEY (namespace, term, impact, memory_id)
                )
                """,
                "CREATE INDEX soma_word_postings_memory ON soma_word_postings (memory_id)",
                "CREATE TABLE soma_word_documents (memory_id uuid PRIMARY KEY, namespace text NOT NULL, length integer NOT NULL)",
                "CREATE TABLE soma_word_stats (namespace text PRIMARY KEY, documents bigint NOT NULL, length bigint NOT NULL)",
                """
                CREATE TABLE soma_word_stat_deltas (
                    id bigserial PRIMARY KEY,
                    namespace text NOT NULL,
                    documents integer NOT NULL,
                    length integer NOT NULL
                )
                """,
                "CREATE INDEX soma_word_stat_deltas_namespace ON soma_word_stat_deltas (namespace)",
            ]),
        // The most recently written memories (MCP's resource list) without a scan.
        Migration(version: "005_recent", statements: ["CREATE INDEX soma_memories_recent ON soma_memories (namespace, updated_us DESC, id)"]),
        // How many memories hold each word, as deltas the write appends (a counter row per word would
        // queue concurrent writers) folded with the record counts: counting a common word's postings
        // at query time grew with the namespace (65 ms for a word 100,000 memories hold).
        // Existing records' words are counted here, and records from before 004 indexed.
        Migration(
            version: "006_word_counts",
            statements: [
                "CREATE TABLE soma_word_terms (namespace text NOT NULL, term text NOT NULL, documents bigint NOT NULL, PRIMARY KEY (namespace, term))",
                """
                CREATE TABLE soma_word_term_deltas (
                    id bigserial PRIMARY KEY,
                    namespace text NOT NULL,
                    term text NOT NULL,
                    documents integer NOT NULL
                )
                """,
                "CREATE INDEX soma_word_term_deltas_term ON soma_word_term_deltas (namespace, term)",
                "INSERT INTO soma_word_terms (namespace, term, documents) SELECT namespace, term, count(*) FROM soma_word_postings GROUP BY namespace, term",
            ],
            then: { connection, logger in
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories
                    WHERE NOT EXISTS (SELECT 1 FROM soma_word_documents d WHERE d.memory_id = soma_memories.id)
                    """, logger: logger)
                let memories = try await PostgresRecords.memories(rows)
                // Each namespace's average length first: it orders every posting written here.
                var lengths: [String: (documents: Int, words: Int)] = [:]
                for memory in memories {
                    lengths[memory.namespace, default: (0, 0)].documents += 1
                    lengths[memory.namespace]!.words += DocumentWords(memory.payload).length
                }
                for memory in memories {
                    let length = lengths[memory.namespace]!
                    try await PostgresWords.index(
                        memory, averageLength: Double(length.words) / Double(length.documents), on: connection, logger: logger)
                }
            }),
    ]

    /// Applies what is missing; returns the versions it applied.
    @discardableResult
    static func apply(_ client: PostgresClient, logger: Logger, through migrations: [Migration] = all) async throws -> [String] {
        try await client.withConnection { connection in
            try await underLock(connection, logger: logger) { try await migrate(connection, logger: logger, migrations) }
        }
    }

    /// Runs `body` holding the schema's advisory lock on this connection, released however it ends.
    static func underLock<T>(_ connection: PostgresConnection, logger: Logger, _ body: () async throws -> T) async throws -> T {
        try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
        do {
            let result = try await body()
            try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            return result
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            throw error
        }
    }

    private static func migrate(_ connection: PostgresConnection, logger: Logger, _ migrations: [Migration]) async throws -> [String] {
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS soma_schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            logger: logger)
        var done: Set<String> = []
        for try await version in try await connection.query("SELECT version FROM soma_schema_migrations", logger: logger).decode(String.self) {
            done.insert(version)
        }
        var applied: [String] = []
        for migration in migrations where !done.contains(migration.version) {
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await migration.then?(connection, logger)
                try await connection.query("INSERT INTO soma_schema_migrations(version) VALUES (\(migration.version))", logger: logger)
            }
            applied.append(migration.version)
        }
        return applied
    }
}
