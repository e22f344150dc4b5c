import Foundation
import Logging
import PostgresNIO
import SomaCore

/// Vectors in PostgreSQL with pgvector: one row per memory, tied to it by a foreign key with
/// `ON DELETE CASCADE` (deleting a record deletes its vector in the same transaction), searched
/// through an HNSW cosine index with pgvector's iterative scan so namespace, type and payload
/// filters still fill the result.
///
/// The table (`PGVECTOR_TABLE`, default `soma_vectors`) is created for the embedder's dimension
/// on first use; a table that exists with another dimension is refused.
public final class PgVectorIndex: RecordBoundVectorIndex {
    private let storage: PostgresStorage
    private let table: String
    private var client: PostgresClient { storage.client }
    private var logger: Logger { storage.logger }

    public static let tableSetting = Setting<String>(
        "PGVECTOR_TABLE", default: "soma_vectors", "pgvector's table (created for the embedder's dimension)")

    public init(storage: PostgresStorage, table: String = tableSetting.defaultValue) throws {
        guard table.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
            throw BackendError.invalidSetting(name: Self.tableSetting.name, reason: "'\(table)' is not a plain lower-case SQL name")
        }
        self.storage = storage
        self.table = table
    }

    public func ensureCollection(dimension: Int) async throws {
        guard (1...16_000).contains(dimension) else {
            throw BackendError.invalidSetting(name: SharedSettings.vectorDimension.name, reason: "\(dimension) is out of range")
        }
        let table = table, logger = logger
        try await storage.call.run { [client] in
            try await client.withConnection { connection in
                let existing = try await PostgresMigrations.underLock(connection, logger: logger) { () async throws -> Int in
                    try await connection.query("CREATE EXTENSION IF NOT EXISTS vector", logger: logger)
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                CREATE TABLE IF NOT EXISTS \(table) (
                                    id uuid PRIMARY KEY REFERENCES soma_memories(id) ON DELETE CASCADE,
                                    namespace text NOT NULL,
                                    type text NOT NULL,
                                    version integer NOT NULL,
                                    payload jsonb NOT NULL,
                                    embedding vector(\(dimension)) NOT NULL
                                )
                                """), logger: logger)
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(table)_hnsw ON \(table) USING hnsw (embedding vector_cosine_ops)"),
                        logger: logger)
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(table)_namespace ON \(table) (namespace, type)"), logger: logger)
                    let rows = try await connection.query(
                        "SELECT atttypmod FROM pg_attribute WHERE attrelid = \(table)::regclass AND attname = 'embedding'", logger: logger)
                    var found = dimension
                    for try await typmod in rows.decode(Int32.self) { found = Int(typmod) }
                    return found
                }
                if existing != dimension { throw BackendError.dimensionMismatch(expected: dimension, actual: existing) }
            }
        }
    }

    /// Writes vectors for records that still exist; a vector older than the one stored is ignored,
    /// so a late or repeated event cannot move a record's vector back.
    public func upsert(_ points: [VectorPoint]) async throws {
        guard let statement = try Self.upsertStatement(points, table: table) else { return }
        let logger = logger
        try await storage.call.run { [client] in
            try await client.query(statement, logger: logger)
        }
    }

    /// One statement for the batch (nil for none); a point given twice keeps its newest version.
    private static func upsertStatement(_ points: [VectorPoint], table: String) throws -> PostgresQuery? {
        var newest: [UUID: VectorPoint] = [:]
        for point in points where (newest[point.id]?.version ?? .min) <= point.version { newest[point.id] = point }
        guard !newest.isEmpty else { return nil }
        let batch = Array(newest.values)
        let ids = batch.map(\.id), namespaces = batch.map(\.namespace), types = batch.map(\.type.rawValue), versions = batch.map(\.version)
        let payloads = try batch.map { try PostgresRecords.json($0.payload) }, vectors = batch.map { literal($0.vector) }
        return """
            INSERT INTO \(unescaped: table) (id, namespace, type, version, payload, embedding)
            SELECT p.id, p.namespace, p.type, p.version, p.payload::jsonb, p.embedding::vector
            FROM unnest(\(ids)::uuid[], \(namespaces)::text[], \(types)::text[], \(versions)::int[], \(payloads)::text[], \(vectors)::text[])
                AS p(id, namespace, type, version, payload, embedding)
            JOIN soma_memories m ON m.id = p.id
            ON CONFLICT (id) DO UPDATE SET namespace = EXCLUDED.namespace, type = EXCLUDED.type, version = EXCLUDED.version,
                payload = EXCLUDED.payload, embedding = EXCLUDED.embedding
            WHERE \(unescaped: table).version <= EXCLUDED.version
            """
    }

    public var transactionDomain: ObjectIdentifier { ObjectIdentifier(storage) }

    public func upsert(_ drafts: [MemoryDraft], vectors: [[Float]], at now: Date) async throws -> [Memory] {
        let table = table, logger = logger
        return try await storage.upsert(drafts, at: now) { connection, stored in
            guard let statement = try Self.upsertStatement(zip(stored, vectors).map { VectorPoint($0, vector: $1) }, table: table) else { return }
            try await connection.query(statement, logger: logger)
        }
    }

    public func delete(ids: [UUID]) async throws {
        guard !ids.isEmpty else { return }
        let table = table, logger = logger
        try await storage.call.run { [client] in
            try await client.query("DELETE FROM \(unescaped: table) WHERE id = ANY(\(ids))", logger: logger)
        }
    }

    public func storedVectors(ids: [UUID], namespace: String) async throws -> [UUID: [Float]] {
        guard !ids.isEmpty else { return [:] }
        let table = table, logger = logger
        var binds = PostgresBindings()
        binds.append(namespace)
        binds.append(ids)
        let query = PostgresQuery(unsafeSQL: "SELECT id, embedding::text FROM \(table) WHERE namespace = $1 AND id = ANY($2)", binds: binds)
        return try await storage.call.run { [client] in
            var found: [UUID: [Float]] = [:]
            for try await (id, text) in try await client.query(query, logger: logger).decode((UUID, String).self) {
                found[id] = text.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").compactMap { Float($0) }
            }
            return found
        }
    }

    public func similarities(to vector: [Float], ids: [UUID], namespace: String) async throws -> [UUID: Double] {
        guard !ids.isEmpty else { return [:] }
        let table = table, logger = logger
        var binds = PostgresBindings()
        binds.append(Self.literal(vector))
        binds.append(namespace)
        binds.append(ids)
        let query = PostgresQuery(
            unsafeSQL: "SELECT id, 1 - (embedding <=> $1::vector) FROM \(table) WHERE namespace = $2 AND id = ANY($3)", binds: binds)
        return try await storage.call.run { [client] in
            var found: [UUID: Double] = [:]
            for try await (id, score) in try await client.query(query, logger: logger).decode((UUID, Double).self) { found[id] = score }
            return found
        }
    }

    public func search(_ request: VectorQuery) async throws -> [VectorHit] {
        guard request.limit > 0 else { return [] }
        let table = table, logger = logger
        var binds = PostgresBindings()
        binds.append(Self.literal(request.vector))
        binds.append(request.namespace)
        var sql = "SELECT id, 1 - (embedding <=> $1::vector) FROM \(table) WHERE namespace = $2"
        if let type = request.type {
            binds.append(type.rawValue)
            sql += " AND type = $\(binds.count)"
        }
        for (key, value) in request.filters.sorted(by: { $0.key < $1.key }) {
            binds.append(key)
            binds.append(try PostgresRecords.json(["v": value]))
            sql += " AND payload -> $\(binds.count - 1) = ($\(binds.count)::jsonb -> 'v')"
        }
        sql += " ORDER BY embedding <=> $1::vector LIMIT \(request.limit)"
        let search = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await storage.call.run { [client] in
            try await client.withConnection { connection in
                // Keep scanning the graph until enough rows pass the filters (pgvector 0.8+). Set
                // for the session, one round trip, no transaction: every user of this pool wants it.
                try await connection.query(
                    "SELECT set_config('hnsw.iterative_scan', 'strict_order', false), set_config('hnsw.ef_search', '100', false)",
                    logger: logger)
                var hits: [VectorHit] = []
                for try await (id, score) in try await connection.query(search, logger: logger).decode((UUID, Double).self) {
                    hits.append(VectorHit(id: id, score: score))
                }
                return hits
            }
        }
    }

    public func count(namespace: String?) async throws -> Int {
        let table = table, logger = logger
        return try await storage.call.run { [client] in
            let rows = try await client.query(
                "SELECT count(*)::bigint FROM \(unescaped: table) WHERE \(namespace)::text IS NULL OR namespace = \(namespace)", logger: logger)
            for try await total in rows.decode(Int64.self) { return Int(total) }
            return 0
        }
    }

    public func isHealthy() async -> Bool { await storage.isHealthy() }

    /// pgvector's text form, `[0.1,0.2]`.
    static func literal(_ vector: [Float]) -> String {
        "[" + vector.map { $0.isFinite ? String($0) : "0" }.joined(separator: ",") + "]"
    }
}
