import Foundation
import Logging
import PostgresNIO
import SomaCore

/// The canonical records in PostgreSQL. Each write is one transaction holding the records, their
/// links, count deltas and outbox events, committed before the answer goes out.
public final class PostgresStorage: MemoryStorage, WordSearching {
    public let client: PostgresClient
    public var wordSearching: (any WordSearching)? { self }
    /// pgvector's table beside the records is written in the records' transactions.
    public var transactionDomain: ObjectIdentifier? { ObjectIdentifier(self) }
    public let endpoint: PostgresEndpoint
    let call: PostgresCall
    let logger: Logger
    /// Marks this process's outbox claims, so it can take back its own claims at once after a failed publish.
    private let relayID = UUID()
    /// How long a claimed outbox row is left to its claimer before another replica may relay it.
    static let claimLifetime = "30 seconds"

    public init(client: PostgresClient, endpoint: PostgresEndpoint, logger: Logger) {
        self.client = client
        self.endpoint = endpoint
        self.call = PostgresCall(endpoint: endpoint)
        self.logger = logger
    }

    // MARK: Writes

    public func upsert(_ drafts: [MemoryDraft], at now: Date) async throws -> [Memory] {
        try await upsert(drafts, at: now) { _, _ in }
    }

    /// Upserts the records, then runs `alsoWrite` with them in the same transaction.
    func upsert(
        _ drafts: [MemoryDraft], at now: Date, alsoWrite: @escaping @Sendable (PostgresConnection, [Memory]) async throws -> Void
    ) async throws -> [Memory] {
        let now = PostgresRecords.rounded(now)
        let logger = logger
        return try await call.run { [client] in
            try await client.withTransaction(logger: logger) { connection in
                var stored: [Memory] = []
                var averages = PostgresWords.AverageLengths()
                for draft in drafts {
                    let average = try await averages.of(draft.namespace, on: connection, logger: logger)
                    stored.append(try await Self.write(draft, at: now, averageLength: average, on: connection, logger: logger))
                }
                try await alsoWrite(connection, stored)
                return stored
            }
        }
    }

    /// Inserts a new record in one round trip; an existing one is locked, then replaced.
    private static func write(
        _ draft: MemoryDraft, at now: Date, averageLength: Double, on connection: PostgresConnection, logger: Logger
    ) async throws -> Memory {
        let fresh = PostgresRecords.rounded(draft.record(replacing: nil, at: now))
        let payload = try PostgresRecords.json(fresh.payload)
        let created = PostgresRecords.event(.created, fresh, at: now)
        // The words go in with the record: one round trip for a new memory.
        let words = PostgresWords.Postings(fresh.payload, averageLength: averageLength)
        let inserted = try await connection.query(
            """
            WITH inserted AS (
                INSERT INTO soma_memories (id, namespace, coord, coordinate, dims, type, payload, search_text, importance,
                                           created_us, updated_us, version, expires_us, embedding_model)
                VALUES (\(fresh.id), \(fresh.namespace), \(fresh.coordinate.canonical), \(fresh.coordinate.values), \(fresh.coordinate.dimensions),
                        \(fresh.type.rawValue), \(payload)::jsonb, \(KeywordQuery.searchableText(fresh.payload)), \(fresh.importance),
                        \(PostgresRecords.micros(fresh.createdAt)), \(PostgresRecords.micros(fresh.updatedAt)), \(fresh.version),
                        \(fresh.expiresAt.map(PostgresRecords.micros)), \(fresh.embeddingModel))
                ON CONFLICT (id) DO NOTHING
                RETURNING id, namespace, type
            ), counted AS (
                INSERT INTO soma_count_deltas (namespace, type, delta) SELECT namespace, type, 1 FROM inserted
            ), evented AS (
                INSERT INTO soma_outbox (memory_id, event) SELECT id, \(created)::jsonb FROM inserted
            ), document AS (
                INSERT INTO soma_word_documents (memory_id, namespace, length) SELECT id, namespace, \(words.length) FROM inserted
            ), postings AS (
                INSERT INTO soma_word_postings (namespace, term, impact, memory_id, frequency, length)
                SELECT i.namespace, w.term, w.impact, i.id, w.frequency, \(words.length)
                FROM inserted i, unnest(\(words.terms)::text[], \(words.frequencies)::int[], \(words.impacts)::float8[]) AS w(term, frequency, impact)
            ), holders AS (
                INSERT INTO soma_word_term_deltas (namespace, term, documents)
                SELECT i.namespace, w.term, 1 FROM inserted i, unnest(\(words.terms)::text[]) AS w(term)
            ), stat AS (
                INSERT INTO soma_word_stat_deltas (namespace, documents, length) SELECT namespace, 1, \(words.length) FROM inserted
            )
            SELECT count(*)::int FROM inserted
            """, logger: logger)
        for try await count in inserted.decode(Int.self) where count == 1 { return fresh }

        let existingRows = try await connection.query(
            "SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories WHERE id = \(fresh.id) FOR UPDATE", logger: logger)
        guard let existing = try await PostgresRecords.memories(existingRows).first else {
            throw BackendError.unreachable(backend: "postgres", reason: "a record vanished during its update; retry")
        }
        let memory = PostgresRecords.rounded(draft.record(replacing: existing, at: now))
        let updated = PostgresRecords.event(.updated, memory, at: now)
        try await connection.query(
            """
            WITH changed AS (
                UPDATE soma_memories SET type = \(memory.type.rawValue), payload = \(try PostgresRecords.json(memory.payload))::jsonb,
                    search_text = \(KeywordQuery.searchableText(memory.payload)), importance = \(memory.importance),
                    created_us = \(PostgresRecords.micros(memory.createdAt)), updated_us = \(PostgresRecords.micros(memory.updatedAt)),
                    version = \(memory.version),
                    expires_us = \(memory.expiresAt.map(PostgresRecords.micros)), embedding_model = \(memory.embeddingModel)
                WHERE id = \(memory.id)
            ), counted AS (
                INSERT INTO soma_count_deltas (namespace, type, delta)
                SELECT \(memory.namespace), \(existing.type.rawValue), -1 WHERE \(existing.type.rawValue) <> \(memory.type.rawValue)
                UNION ALL
                SELECT \(memory.namespace), \(memory.type.rawValue), 1 WHERE \(existing.type.rawValue) <> \(memory.type.rawValue)
            )
            INSERT INTO soma_outbox (memory_id, event) VALUES (\(memory.id), \(updated)::jsonb)
            """, logger: logger)
        try await PostgresWords.unindex(memory.id, on: connection, logger: logger)
        try await PostgresWords.index(memory, averageLength: averageLength, on: connection, logger: logger)
        return memory
    }

    public func delete(namespace: String, coordinates: [Coordinate], at now: Date) async throws -> [Memory] {
        let ids = coordinates.map { MemoryID.make(namespace: namespace, coordinate: $0) }
        return try await remove("id = ANY(\(ids)) AND namespace = \(namespace)", at: PostgresRecords.rounded(now))
    }

    public func deleteExpired(before now: Date, limit: Int) async throws -> [Memory] {
        let cutoff = PostgresRecords.micros(now)
        let expired = try await remove(
            "id IN (SELECT id FROM soma_memories WHERE expires_us <= \(cutoff) LIMIT \(limit) FOR UPDATE SKIP LOCKED)",
            at: PostgresRecords.rounded(now))
        try await foldCounts()
        return expired
    }

    /// Deletes the records the condition selects, with their links, count deltas and `deleted` events.
    private func remove(_ condition: PostgresQuery, at now: Date) async throws -> [Memory] {
        let logger = logger
        return try await call.run { [client] in
            try await client.withTransaction(logger: logger) { connection in
                var query = PostgresQuery(unsafeSQL: "DELETE FROM soma_memories WHERE ")
                query = Self.concatenate(query, condition, " RETURNING \(PostgresRecords.columns)")
                let deleted = try await PostgresRecords.memories(try await connection.query(query, logger: logger))
                for memory in deleted {
                    let event = PostgresRecords.event(.deleted, memory, at: now)
                    try await connection.query(
                        """
                        WITH unlinked AS (
                            DELETE FROM soma_links WHERE namespace = \(memory.namespace)
                                AND (from_coord = \(memory.coordinate.canonical) OR to_coord = \(memory.coordinate.canonical))
                        ), counted AS (
                            INSERT INTO soma_count_deltas (namespace, type, delta) VALUES (\(memory.namespace), \(memory.type.rawValue), -1)
                        )
                        INSERT INTO soma_outbox (memory_id, event) VALUES (\(memory.id), \(event)::jsonb)
                        """, logger: logger)
                    try await PostgresWords.unindex(memory.id, on: connection, logger: logger)
                }
                return deleted
            }
        }
    }

    /// Joins a query prefix, an interpolated condition and a suffix, renumbering the condition's binds.
    private static func concatenate(_ prefix: PostgresQuery, _ condition: PostgresQuery, _ suffix: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: prefix.sql + condition.sql + suffix, binds: condition.binds)
    }

    /// Moves count deltas into the totals (housekeeping, run with the expiry sweep).
    func foldCounts() async throws {
        let logger = logger
        try await call.run { [client] in
            try await client.query(
                """
                WITH moved AS (DELETE FROM soma_count_deltas RETURNING namespace, type, delta)
                INSERT INTO soma_counts (namespace, type, total)
                SELECT namespace, type, sum(delta) FROM moved GROUP BY namespace, type
                ON CONFLICT (namespace, type) DO UPDATE SET total = soma_counts.total + EXCLUDED.total
                """, logger: logger)
            try await client.query(
                """
                WITH moved AS (DELETE FROM soma_word_stat_deltas RETURNING namespace, documents, length)
                INSERT INTO soma_word_stats (namespace, documents, length)
                SELECT namespace, sum(documents), sum(length) FROM moved GROUP BY namespace
                ON CONFLICT (namespace) DO UPDATE SET documents = soma_word_stats.documents + EXCLUDED.documents,
                    length = soma_word_stats.length + EXCLUDED.length
                """, logger: logger)
            try await client.query(
                """
                WITH moved AS (DELETE FROM soma_word_term_deltas RETURNING namespace, term, documents)
                INSERT INTO soma_word_terms (namespace, term, documents)
                SELECT namespace, term, sum(documents) FROM moved GROUP BY namespace, term
                ON CONFLICT (namespace, term) DO UPDATE SET documents = soma_word_terms.documents + EXCLUDED.documents
                """, logger: logger)
        }
    }

    public func addLink(namespace: String, link: Link) async throws {
        let logger = logger
        let created = PostgresRecords.micros(link.createdAt)
        let sourceID = MemoryID.make(namespace: namespace, coordinate: link.from)
        let at = PostgresRecords.rounded(link.createdAt)
        try await call.run { [client] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO soma_links (namespace, from_coord, to_coord, type, weight, created_us)
                    VALUES (\(namespace), \(link.from.canonical), \(link.to.canonical), \(link.type), \(link.weight), \(created))
                    ON CONFLICT (namespace, from_coord, to_coord, type) DO UPDATE SET weight = EXCLUDED.weight, created_us = EXCLUDED.created_us
                    """, logger: logger)
                let source = try await connection.query(
                    "SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories WHERE id = \(sourceID)", logger: logger)
                if let memory = try await PostgresRecords.memories(source).first {
                    let event = PostgresRecords.event(.linked, memory, at: at)
                    try await connection.query("INSERT INTO soma_outbox (memory_id, event) VALUES (\(memory.id), \(event)::jsonb)", logger: logger)
                }
            }
        }
    }

    // MARK: Reads

    public func get(namespace: String, coordinate: Coordinate) async throws -> Memory? {
        try await get(namespace: namespace, ids: [MemoryID.make(namespace: namespace, coordinate: coordinate)]).first
    }

    public func get(namespace: String, ids: [UUID]) async throws -> [Memory] {
        guard !ids.isEmpty else { return [] }
        return try await select("SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories WHERE id = ANY(\(ids)) AND namespace = \(namespace)")
    }

    public func list(namespace: String, type: MemoryType?, after cursor: String?, limit: Int) async throws -> MemoryPage {
        var after: UUID?
        if let cursor {
            guard let id = UUID(uuidString: cursor) else { throw EngineError.invalid("invalid cursor") }
            after = id
        }
        let rows = try await select(
            """
            SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories
            WHERE namespace = \(namespace) AND (\(type?.rawValue)::text IS NULL OR type = \(type?.rawValue))
              AND (\(after)::uuid IS NULL OR id > \(after)) ORDER BY id LIMIT \(limit + 1)
            """)
        let page = Array(rows.prefix(limit))
        return MemoryPage(memories: page, nextCursor: rows.count > limit ? page.last.map { $0.id.uuidString.lowercased() } : nil)
    }

    public func recent(namespace: String, limit: Int) async throws -> [Memory] {
        try await select(
            """
            SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories
            WHERE namespace = \(namespace) ORDER BY updated_us DESC, id LIMIT \(limit)
            """)
    }

    public func range(namespace: String, min lower: Coordinate, max upper: Coordinate, type: MemoryType?, limit: Int) async throws -> [Memory] {
        try await select(
            """
            SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories
            WHERE namespace = \(namespace) AND dims = \(lower.dimensions)
              AND coordinate[1] BETWEEN \(lower.values[0]) AND \(upper.values[0])
              AND (\(type?.rawValue)::text IS NULL OR type = \(type?.rawValue))
              AND NOT EXISTS (
                  SELECT 1 FROM unnest(coordinate, \(lower.values)::float8[], \(upper.values)::float8[]) AS box(v, lo, hi)
                  WHERE v < lo OR v > hi)
            ORDER BY coord LIMIT \(limit)
            """)
    }

    public func wordSearch(namespace: String, query: WordQuery, scoring: BM25, type: MemoryType?, limit: Int) async throws -> WordMatches {
        let logger = logger
        let found = try await call.run { [client] in
            try await PostgresWords.search(namespace: namespace, query: query, scoring: scoring, limit: limit, client: client, logger: logger)
        }
        // Records a chunk at a time, best first, until `limit` pass the type filter.
        var hits: [ScoredMemory] = []
        var ranked = found.ranked
        while hits.count < limit {
            let chunk = ranked.next(WordSearchBounds.pageSize(limit - hits.count, typed: type != nil))
            guard !chunk.isEmpty else { break }
            let records = Dictionary(try await get(namespace: namespace, ids: chunk.map(\.document)).map { ($0.id, $0) }) { first, _ in first }
            hits += chunk.compactMap { hit in
                records[hit.document].flatMap { type == nil || $0.type == type ? ScoredMemory(memory: $0, score: hit.score) : nil }
            }
        }
        return WordMatches(hits: Array(hits.prefix(limit)), fullScore: found.fullScore)
    }

    /// Word matches through full-text search, substrings through `LIKE` (trigram-indexed when
    /// pg_trgm is there); `KeywordQuery` decides the final match and order.
    public func keywordSearch(namespace: String, query: KeywordQuery, type: MemoryType?, limit: Int) async throws -> [Memory] {
        guard !query.term.isEmpty else { return [] }
        let pattern =
            "%"
            + query.term.lowercased()
            .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        let candidates = try await select(
            """
            SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories
            WHERE namespace = \(namespace) AND (\(type?.rawValue)::text IS NULL OR type = \(type?.rawValue))
              AND (to_tsvector('simple', search_text) @@ plainto_tsquery('simple', \(query.term)) OR lower(search_text) LIKE \(pattern))
            LIMIT \(max(limit * 20, 2000))
            """)
        return query.rank(candidates, limit: limit)
    }

    public func links(namespace: String, from: Coordinate, type: String?, limit: Int) async throws -> [Link] {
        try await links(namespace: namespace, at: from, incoming: false, type: type, limit: limit)
    }

    public func links(namespace: String, to: Coordinate, type: String?, limit: Int) async throws -> [Link] {
        try await links(namespace: namespace, at: to, incoming: true, type: type, limit: limit)
    }

    /// Links leaving (or, `incoming`, reaching) `coordinate`, cheapest first.
    private func links(namespace: String, at coordinate: Coordinate, incoming: Bool, type: String?, limit: Int) async throws -> [Link] {
        let logger = logger
        let query: PostgresQuery =
            incoming
            ? """
            SELECT from_coord, to_coord, type, weight, created_us FROM soma_links
            WHERE namespace = \(namespace) AND to_coord = \(coordinate.canonical) AND (\(type)::text IS NULL OR type = \(type))
            ORDER BY weight, from_coord, type LIMIT \(limit)
            """
            : """
            SELECT from_coord, to_coord, type, weight, created_us FROM soma_links
            WHERE namespace = \(namespace) AND from_coord = \(coordinate.canonical) AND (\(type)::text IS NULL OR type = \(type))
            ORDER BY weight, to_coord, type LIMIT \(limit)
            """
        return try await call.run { [client] in
            let rows = try await client.query(query, logger: logger)
            var links: [Link] = []
            for try await (from, to, linkType, weight, created) in rows.decode((String, String, String, Double, Int64).self) {
                links.append(
                    Link(
                        from: try Coordinate(parsing: from, maxDimensions: .max), to: try Coordinate(parsing: to, maxDimensions: .max),
                        type: linkType, weight: weight, createdAt: PostgresRecords.date(created)))
            }
            return links
        }
    }

    public func counts(namespace: String) async throws -> MemoryCounts {
        let logger = logger
        return try await call.run { [client] in
            let rows = try await client.query(
                """
                SELECT type, sum(total)::bigint FROM (
                    SELECT type, total FROM soma_counts WHERE namespace = \(namespace)
                    UNION ALL
                    SELECT type, delta::bigint FROM soma_count_deltas WHERE namespace = \(namespace)
                ) AS parts GROUP BY type
                """, logger: logger)
            var counts = MemoryCounts()
            for try await (type, total) in rows.decode((String, Int64).self) {
                if let type = MemoryType(rawValue: type) { counts.add(type, Int(total)) }
            }
            return counts
        }
    }

    // MARK: Outbox

    /// Claims the oldest unrelayed events with `FOR UPDATE SKIP LOCKED`, so replicas never claim the
    /// same row. Claiming is serialised by a transaction-level advisory lock (it takes milliseconds),
    /// and an event whose memory has an earlier event claimed by another replica is left for later,
    /// so events leave in order per memory even when several replicas relay. A claim lapses after
    /// `claimLifetime`, so a replica that died mid-relay does not strand its events.
    public func pendingEvents(limit: Int) async throws -> [OutboxEntry] {
        let logger = logger
        let relayID = relayID
        return try await call.run { [client] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.relayLockKey))", logger: logger)
                let rows = try await connection.query(
                    """
                    UPDATE soma_outbox SET claimed_by = \(relayID), claimed_until = now() + interval '\(unescaped: Self.claimLifetime)'
                    WHERE sequence IN (
                        SELECT o.sequence FROM soma_outbox o
                        WHERE (o.claimed_until IS NULL OR o.claimed_until < now() OR o.claimed_by = \(relayID))
                          AND NOT EXISTS (
                              SELECT 1 FROM soma_outbox e
                              WHERE e.memory_id = o.memory_id AND e.sequence < o.sequence
                                AND e.claimed_by <> \(relayID) AND e.claimed_until >= now())
                        ORDER BY o.sequence LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                    RETURNING sequence, event::text
                    """, logger: logger)
                var entries: [OutboxEntry] = []
                for try await (sequence, event) in rows.decode((Int64, String).self) {
                    entries.append(OutboxEntry(sequence: sequence, event: try PostgresRecords.decodeEvent(event)))
                }
                return entries.sorted { $0.sequence < $1.sequence }
            }
        }
    }

    /// Any fixed number, other than the migrations' key.
    static let relayLockKey: Int64 = 0x50_4D_41_52_45_4C

    public func markRelayed(_ sequence: [Int64]) async throws {
        guard !sequence.isEmpty else { return }
        let logger = logger
        try await call.run { [client] in
            try await client.query("DELETE FROM soma_outbox WHERE sequence = ANY(\(sequence))", logger: logger)
        }
    }

    public func isHealthy() async -> Bool {
        let logger = logger
        return
            (try? await call.run { [client] in
                for try await one in try await client.query("SELECT 1", logger: logger).decode(Int.self) { return one }
                return 0
            }) == 1
    }

    /// Ranges of the (embedding_model, id) index rather than `<>`, which would scan the table on
    /// every repair pass.
    public func memoriesToEmbed(notEmbeddedWith model: String?, after cursor: UUID?, limit: Int) async throws -> [Memory] {
        let after = cursor ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        if let model {
            return try await select(
                """
                SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories
                WHERE (embedding_model IS NULL OR embedding_model < \(model) OR embedding_model > \(model)) AND id > \(after)
                ORDER BY id LIMIT \(limit)
                """)
        }
        return try await select(
            """
            SELECT \(unescaped: PostgresRecords.columns) FROM soma_memories
            WHERE embedding_model IS NULL AND id > \(after) ORDER BY id LIMIT \(limit)
            """)
    }

    public func recordEmbedding(_ versions: [RecordVersion], model: String?) async throws {
        guard !versions.isEmpty else { return }
        let logger = logger
        try await call.run { [client] in
            try await client.query(
                """
                UPDATE soma_memories AS m SET embedding_model = \(model)
                FROM unnest(\(versions.map(\.id)), \(versions.map(\.version))) AS v(id, version)
                WHERE m.id = v.id AND m.version = v.version
                """, logger: logger)
        }
    }

    public func serviceValue(_ key: String) async throws -> String? {
        let logger = logger
        return try await call.run { [client] in
            for try await value in try await client.query("SELECT value FROM soma_service_values WHERE key = \(key)", logger: logger).decode(
                String.self)
            {
                return value
            }
            return nil
        }
    }

    public func setServiceValues(_ values: [String: String?]) async throws {
        let logger = logger
        try await call.run { [client] in
            try await client.withTransaction(logger: logger) { connection in
                // In key order: two processes writing the same keys in different orders (a
                // dictionary's order differs between processes) deadlocked at start-up.
                for key in values.keys.sorted() {
                    if let value = values[key]! {
                        try await connection.query(
                            """
                            INSERT INTO soma_service_values(key, value) VALUES (\(key), \(value))
                            ON CONFLICT (key) DO UPDATE SET value = excluded.value
                            """, logger: logger)
                    } else {
                        try await connection.query("DELETE FROM soma_service_values WHERE key = \(key)", logger: logger)
                    }
                }
            }
        }
    }

    private func select(_ query: PostgresQuery) async throws -> [Memory] {
        let logger = logger
        return try await call.run { [client] in
            try await PostgresRecords.memories(try await client.query(query, logger: logger))
        }
    }
}
