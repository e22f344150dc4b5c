import Foundation
import GRDB
import Logging
import SomaANN
import SomaCore
import Synchronization

/// Vectors stored in the data file beside the records, searched through `NearestNeighbourIndex`.
/// The table is the truth: at start-up the in-memory index is rebuilt from it, reusing the graphs
/// saved at the last clean shutdown where they still match. The graphs keep their vectors in half
/// precision: half the memory, similarities within about 1e-4 of single precision's (measured in
/// the recall test). Re-ranking the best candidates with the table's exact vectors was measured
/// to cut vector recall to a third of its rate (2,700 to 850 recalls/s at 10,000 memories) for
/// that last 1e-4, so searches answer from the graph; a backup reads the table's exact vectors.
public final class SQLiteVectorIndex: NearestNeighbourBacked, RecordBoundVectorIndex {
    let database: SQLiteDatabase
    public let index: NearestNeighbourIndex
    let mergeGrace: Duration = .seconds(20)
    /// This generation's tables, and where its saved graphs live.
    let tables: Tables
    static let logger = Logger(label: "soma.sqlite")

    /// Generation 0 is the migrated `vectors` (each vector's entry: id, label, payload),
    /// `vector_values` (the vectors) and `vector_meta`; `soma reindex` makes `vectors_g<N>`,
    /// `vector_values_g<N>` and `vector_meta_g<N>` beside them, with their graphs in a folder
    /// named as the first.
    struct Tables {
        let vectors: String
        let values: String
        let meta: String
        let graphs: String

        init(generation: Int, directory: String) {
            let suffix = generation == 0 ? "" : "_g\(generation)"
            vectors = "vectors" + suffix
            values = "vector_values" + suffix
            meta = "vector_meta" + suffix
            graphs = generation == 0 ? directory : (directory as NSString).appendingPathComponent(vectors)
        }
    }

    /// Whether this start read its entries from the file the last clean stop saved (`EntrySnapshot`).
    var entriesWereSaved: Bool { startedFromSavedEntries.load(ordering: .relaxed) }
    private let startedFromSavedEntries = Atomic(false)

    var entriesSnapshot: EntrySnapshot {
        EntrySnapshot(directory: tables.graphs, entries: tables.vectors, meta: tables.meta, pool: database.pool)
    }

    /// Searches are answered from memory, but what they answer from must still be readable: a
    /// probe reads this generation's vector table through the pool, as a restart would, and the
    /// background merge must be moving (or idle).
    public func isHealthy() async -> Bool {
        let table = tables.vectors
        guard index.mergeIsProgressing else { return false }
        return (try? await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM \(table) LIMIT 1)") }) != nil
    }

    public init(database: SQLiteDatabase, dimension: Int, parameters: ANNParameters = ANNParameters(), generation: Int = 0) async throws {
        self.database = database
        var parameters = parameters
        parameters.graphPrecision = .half
        self.index = NearestNeighbourIndex(dimension: dimension, parameters: parameters)
        let tables = Tables(generation: generation, directory: database.directory)
        self.tables = tables
        if generation > 0 {
            try FileManager.default.createDirectory(atPath: tables.graphs, withIntermediateDirectories: true)
            try await database.committer.write { db in
                // A generation begun before v7 keeps its vectors inline until now.
                try db.execute(
                    sql: SQLiteMigrations.vectorTables(vectors: tables.vectors, values: tables.values, meta: tables.meta, ifMissing: true))
                try SQLiteMigrations.separateVectors(entries: tables.vectors, values: tables.values, db)
                try db.execute(sql: SQLiteMigrations.changeToken(entries: tables.vectors, meta: tables.meta))
            }
        }
        try await ensureCollection(dimension: dimension)
        let began = ContinuousClock.now
        // The saved graphs are read on a thread of their own meanwhile (seconds at a million).
        async let graphs = index.savedGraphs(in: tables.graphs)
        // Without the vectors (a table of their own): the saved graph holds most of them. From the
        // file the last clean stop saved, while the table is as it left it.
        let saved = await entriesSnapshot.load()
        startedFromSavedEntries.store(saved != nil, ordering: .relaxed)
        let entries: StoredEntries.Entries
        if let saved { entries = saved } else { entries = try await StoredEntries.read(from: tables.vectors, in: database.pool) }
        let savedGraphs = await graphs
        let read = ContinuousClock.now - began
        try index.load(entries, graphs: savedGraphs) { ids in
            try database.pool.read { db in try Self.vectors(of: ids, namespace: nil, in: tables, storedCount: entries.count, db) }
        }
        let waiting = index.pendingCount
        Self.logger.info(
            "vector index loaded",
            metadata: [
                "vectors": "\(entries.count)", "milliseconds": "\((ContinuousClock.now - began).wholeMilliseconds)", "table": "\(tables.vectors)",
                "read_milliseconds": "\(read.wholeMilliseconds)", "entries_from": saved != nil ? "the saved file" : "the table",
            ])
        if waiting > 0 {
            // Searches scan these exactly until the merge has put them into the graph.
            Self.logger.notice(
                "vectors not in the saved graph are being merged into it", metadata: ["vectors": "\(waiting)", "stored": "\(entries.count)"])
        }
    }

    /// The stored vectors of `ids` (in `namespace`, when given). Many ids of any namespace are read
    /// in one pass over the vectors' table; others, by key.
    static func vectors(of ids: [UUID], namespace: String?, in tables: Tables, storedCount: Int, _ db: Database) throws -> [UUID: [Float]] {
        var found: [UUID: [Float]] = [:]
        func collect(_ rows: RowCursor, keeping wanted: Set<String>?) throws {
            while let row = try rows.next() {
                let id: String = row["id"]
                guard wanted?.contains(id) ?? true, let uuid = UUID(parsing: id) else { continue }
                if let ns = namespace, ns != row["namespace"] as String { continue }
                let blob: Data = row["vector"]
                found[uuid] = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
        }
        guard !ids.isEmpty else { return [:] }
        let keys = ids.map(SQLiteRecords.id)
        if ids.count * 4 > storedCount, namespace == nil {
            // The vectors alone, in their table's order (a start without a saved graph reads them all).
            try collect(Row.fetchCursor(db, sql: "SELECT id, vector FROM \(tables.values)"), keeping: Set(keys))
        } else {
            for chunk in stride(from: 0, to: keys.count, by: 500).map({ Array(keys[$0..<min($0 + 500, keys.count)]) }) {
                try collect(
                    Row.fetchCursor(
                        db,
                        sql: """
                            SELECT e.id, e.namespace, v.vector FROM \(tables.vectors) e JOIN \(tables.values) v USING (id)
                            WHERE e.id IN (\(SQLiteRecords.marks(chunk.count)))
                            """,
                        arguments: StatementArguments(chunk)),
                    keeping: nil)
            }
        }
        return found
    }

    /// The exact vectors of `ids` in `namespace`, normalised as the index keeps them.
    public func storedVectors(ids: [UUID], namespace: String) async throws -> [UUID: [Float]] {
        let tables = tables
        return try await database.pool.read { db in
            try Self.vectors(of: ids, namespace: namespace, in: tables, storedCount: .max, db).mapValues(NearestNeighbourIndex.normalised)
        }
    }

    /// The service that saves this index's graphs while it runs and at the shutdown.
    public var graphSaver: GraphSaver {
        GraphSaver(index: index, directory: tables.graphs, interval: index.parameters.saveInterval, entries: entriesSnapshot)
    }

    public func ensureCollection(dimension: Int) async throws {
        let stored = try await database.pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM \(tables.meta) WHERE key = 'dimension'").flatMap(Int.init)
        }
        if let stored, stored != dimension {
            throw BackendError.dimensionMismatch(expected: dimension, actual: stored)
        }
        guard index.dimension == dimension else { throw BackendError.dimensionMismatch(expected: dimension, actual: index.dimension) }
        if stored == nil {
            try await database.committer.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO \(self.tables.meta)(key, value) VALUES ('dimension', ?)", arguments: [String(dimension)])
            }
        }
    }

    public func upsert(_ points: [VectorPoint]) async throws {
        guard !points.isEmpty else { return }
        let (labels, rows) = try prepare(points.map(\.vector), payloads: points.map(\.payload), namespaces: points.map(\.namespace))
        try await database.committer.write { db in try self.write(rows, of: points, db) }
        try index.upsert(points, labels: labels)
    }

    public var transactionDomain: ObjectIdentifier { ObjectIdentifier(database) }

    public func upsert(_ drafts: [MemoryDraft], vectors: [[Float]], at now: Date) async throws -> [Memory] {
        let (labels, rows) = try prepare(vectors, payloads: drafts.map(\.payload), namespaces: drafts.map(\.namespace))
        let (memories, points) = try await database.committer.write { db in
            let memories = try SQLiteStorage.upsert(db, drafts, at: now)
            let points = zip(memories, vectors).map { VectorPoint($0, vector: $1) }
            try self.write(rows, of: points, db)
            return (memories, points)
        }
        try index.upsert(points, labels: labels)
        return memories
    }

    /// A point's stored form, apart from the record's version.
    private struct VectorRow: Sendable {
        let blob: Data
        let payload: String
        let label: Int

        init(_ vector: [Float], payload: JSONObject, label: Int) {
            blob = vector.withUnsafeBufferPointer { Data(buffer: $0) }
            self.payload = SQLiteRecords.json(payload)
            self.label = label
        }
    }

    /// New labels and the stored rows for vectors about to be written, encoded before the
    /// transaction (the writer serves every store, so it does only SQL). A vector of another
    /// dimension is refused.
    private func prepare(_ vectors: [[Float]], payloads: [JSONObject], namespaces: [String]) throws -> (labels: [Int], rows: [VectorRow]) {
        for vector in vectors where vector.count != index.dimension {
            throw BackendError.dimensionMismatch(expected: index.dimension, actual: vector.count)
        }
        let labels = index.labels(for: namespaces)
        return (labels, zip(zip(vectors, payloads), labels).map { VectorRow($0.0, payload: $0.1, label: $1) })
    }

    private func write(_ rows: [VectorRow], of points: [VectorPoint], _ db: Database) throws {
        for (point, row) in zip(points, rows) {
            let id = SQLiteRecords.id(point.id)
            try db.run(
                "INSERT OR REPLACE INTO \(tables.vectors)(id, namespace, type, version, payload, label) VALUES (?, ?, ?, ?, ?, ?)",
                [id, point.namespace, point.type.rawValue, point.version, row.payload, row.label])
            try db.run("INSERT OR REPLACE INTO \(tables.values)(id, vector) VALUES (?, ?)", [id, row.blob])
        }
    }

    public func delete(ids: [UUID]) async throws {
        guard !ids.isEmpty else { return }
        let keys = ids.map(SQLiteRecords.id)
        try await database.committer.write { db in
            for table in [self.tables.vectors, self.tables.values] {
                try db.execute(sql: "DELETE FROM \(table) WHERE id IN (\(SQLiteRecords.marks(keys.count)))", arguments: StatementArguments(keys))
            }
        }
        index.delete(ids: ids)
    }

    /// Saves the graphs, after giving the background merge up to `mergeGrace` to empty the buffer
    /// (a large buffer makes every search scan it after the restart). Vectors still buffered then
    /// are not in the saved graph; the next start-up merges them again from the table. The default
    /// stays under Kubernetes' 30 s termination grace period.
    public func flush() async throws {
        await index.waitForMerge(upTo: mergeGrace)
        try index.save(to: tables.graphs)
        try await entriesSnapshot.save()
    }
}
