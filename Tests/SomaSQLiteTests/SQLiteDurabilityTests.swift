import ConformanceKit
import Foundation
import GRDB
@testable import SomaANN
import SomaCore
import Synchronization
import Testing
@testable import SomaSQLite

@Suite struct SQLiteDurabilityTests {
    func engine(_ directory: String, threshold: Int = 4096, embedder: any Embedder = HashEmbedder(dimension: 64)) async throws -> MemoryEngine {
        let database = try SQLiteDatabase(directory: directory)
        var parameters = ANNParameters()
        parameters.exactThreshold = threshold
        let engine = MemoryEngine(
            storage: SQLiteStorage(database: database), cache: NoCache(),
            vectors: try await SQLiteVectorIndex(database: database, dimension: 64, parameters: parameters),
            bus: NoBus(), embedder: embedder)
        try await engine.prepare()
        return engine
    }

    /// The record and its vector share one commit: a crash between two commits could otherwise leave
    /// a record stamped as embedded whose vector is missing, which no repair pass would look for.
    @Test func aStoreCommitsItsRecordAndVectorTogether() async throws {
        let engine = try await engine(temporaryDirectory())
        let database = try #require(engine.storage as? SQLiteStorage).database
        let commits = CommitCounter()
        database.pool.add(transactionObserver: commits, extent: .observerLifetime)
        let coordinate = try Coordinate([1, 2])
        for version in 1...2 {
            let stored = try await engine.store(
                MemoryDraft(namespace: "ns", coordinate: coordinate, payload: ["text": .string("version \(version)")]))
            #expect(commits.count == version, "one commit per store, not \(commits.count - version + 1)")
            let (model, vectorVersion) = try await database.pool.read { db in
                (
                    try String.fetchOne(db, sql: "SELECT embedding_model FROM memories WHERE id = ?", arguments: [SQLiteRecords.id(stored.id)]),
                    try Int.fetchOne(db, sql: "SELECT version FROM vectors WHERE id = ?", arguments: [SQLiteRecords.id(stored.id)])
                )
            }
            #expect(model == engine.embedder.modelID && vectorVersion == version)
        }
        let hits = try await engine.recall(RecallRequest(namespace: "ns", query: "version 2", topK: 1))
        #expect(hits.first?.memory.version == 2)
    }

    /// An embedder that does not answer does not lose the store: the record is kept without a model,
    /// which the repair pass indexes once the embedder is back.
    @Test func aStoreWhoseEmbeddingFailsKeepsTheRecordForRepair() async throws {
        let directory = temporaryDirectory()
        let engine = try await engine(directory, embedder: UnansweringEmbedder())
        let stored = try await engine.store(MemoryDraft(namespace: "ns", coordinate: try Coordinate([3]), payload: ["text": "kept"]))
        #expect(try await engine.get(namespace: "ns", coordinate: try Coordinate([3]))?.payload == ["text": "kept"])
        let waiting = try await engine.storage.memoriesToEmbed(notEmbeddedWith: nil, after: nil, limit: 10)
        #expect(waiting.map(\.id) == [stored.id])
        #expect(try await engine.vectors.count(namespace: "ns") == 0)
    }

    @Test(arguments: [4096, 0])
    func everythingIsBackAfterARestart(threshold: Int) async throws {
        let directory = temporaryDirectory()
        let coordinates = (0..<40).map { try! Coordinate([Double($0), 1]) }
        do {
            let first = try await engine(directory, threshold: threshold)
            _ = try await first.store(
                coordinates.enumerated().map { index, coordinate in
                    MemoryDraft(
                        namespace: "ns", coordinate: coordinate, type: index % 4 == 0 ? .semantic : .episodic,
                        payload: ["text": .string("note number \(index) about topic \(index % 5)")])
                })
            try await first.link(namespace: "ns", Link(from: coordinates[0], to: coordinates[1], type: "next", weight: 2))
            _ = try await first.delete(namespace: "ns", coordinates: [coordinates[39]])
            try await first.vectors.flush()
        }
        let second = try await engine(directory, threshold: threshold)
        #expect(try await second.stats(namespace: "ns") == MemoryCounts(episodic: 29, semantic: 10))
        #expect(try await second.get(namespace: "ns", coordinate: coordinates[7])?.payload == ["text": "note number 7 about topic 2"])
        #expect(try await second.neighbors(namespace: "ns", of: coordinates[0], type: nil, limit: 5).map(\.to) == [coordinates[1]])
        #expect(try await second.vectors.count(namespace: "ns") == 39)
        let hits = try await second.recall(RecallRequest(namespace: "ns", query: "note number 12 about topic 2", topK: 3))
        #expect(hits.first?.memory.coordinate == coordinates[12])
        #expect(try await second.get(namespace: "ns", coordinate: coordinates[39]) == nil)
    }

    /// The writer runs in WAL mode with synchronous=FULL (2), so a commit has reached the disk
    /// before it returns. GRDB sets NORMAL (1) when it enables WAL; a crash of the process cannot
    /// tell the two apart, a power cut can.
    @Test func theWriterSyncsEachCommit() async throws {
        let database = try SQLiteDatabase(directory: temporaryDirectory())
        let (mode, level) = try await database.pool.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(level == 2, "synchronous is \(level.map(String.init) ?? "unknown"), not FULL")
    }

    @Test func concurrentWritesAreAllCommitted() async throws {
        let directory = temporaryDirectory()
        let storage = SQLiteStorage(database: try SQLiteDatabase(directory: directory))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    _ = try await storage.upsert([Fixture.draft("ns", try Coordinate([Double(index)]), ["i": .int(Int64(index))])], at: Date())
                }
            }
            try await group.waitForAll()
        }
        let reopened = SQLiteStorage(database: try SQLiteDatabase(directory: directory))
        #expect(try await reopened.counts(namespace: "ns").total == 200)
        #expect(try await reopened.list(namespace: "ns", type: nil, after: nil, limit: 1000).memories.count == 200)
    }

    /// Vectors written inline with their entries (before v7, and a reindex generation begun then)
    /// are moved to their own table and found, exact, by the index after the upgrade.
    @Test func vectorsStoredInlineAreFoundAfterTheUpgrade() async throws {
        let directory = temporaryDirectory()
        let old = try DatabaseQueue(path: (directory as NSString).appendingPathComponent(SQLiteDatabase.fileName))
        try SQLiteMigrations.migrator.migrate(old, upTo: "v6_word_changes")
        let stored: [(generation: Int, id: UUID, vector: [Float])] = [(0, UUID(), [0.5, -1, 2, 0.25]), (1, UUID(), [-3, 1, 0, 0.125])]
        try await old.write { db in
            try db.execute(sql: SQLiteMigrations.vectorTables(vectors: "vectors_g1", values: nil, meta: "vector_meta_g1", ifMissing: false))
            for (generation, id, vector) in stored {
                let table = generation == 0 ? "vectors" : "vectors_g\(generation)"
                try db.execute(
                    sql:
                        "INSERT INTO \(table)(id, namespace, type, version, payload, label, vector) VALUES (?, 'ns', 'semantic', 4, '{\"k\":\"v\"}', 0, ?)",
                    arguments: [SQLiteRecords.id(id), vector.withUnsafeBufferPointer { Data(buffer: $0) }])
            }
        }
        try old.close()
        let upgraded = try SQLiteDatabase(directory: directory)
        #expect(try upgraded.appliedMigrations() == SQLiteMigrations.versions)
        for (generation, id, vector) in stored {
            let index = try await SQLiteVectorIndex(database: upgraded, dimension: 4, generation: generation)
            let hits = try await index.search(VectorQuery(vector: vector, namespace: "ns", limit: 5))
            #expect(hits.map(\.id) == [id], "generation \(generation)")
            #expect(hits.first?.payload == ["k": "v"])
            #expect(try await index.storedVectors(ids: [id], namespace: "ns")[id] == NearestNeighbourIndex.normalised(vector))
        }
    }

    @Test func migratesAnEmptyFileAndTheFirstSchema() async throws {
        let fresh = try SQLiteDatabase(directory: temporaryDirectory())
        #expect(try fresh.appliedMigrations() == SQLiteMigrations.versions)

        // A data file as the first schema left it, with a record written by that version.
        let directory = temporaryDirectory()
        let old = try DatabaseQueue(path: (directory as NSString).appendingPathComponent(SQLiteDatabase.fileName))
        try SQLiteMigrations.migrator.migrate(old, upTo: "v1_records")
        try await old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO memories(id, namespace, coord, coordinate, dims, c0, type, payload, importance, created_at, updated_at, version)
                    VALUES (?, 'ns', '1,2', '[1,2]', 2, 1, 'semantic', '{"title":"Legacy pineapple"}', 1, 0, 0, 3)
                    """, arguments: [SQLiteRecords.id(MemoryID.make(namespace: "ns", coordinate: try Coordinate([1, 2])))])
        }
        try old.close()
        let upgraded = try SQLiteDatabase(directory: directory)
        #expect(try upgraded.appliedMigrations() == SQLiteMigrations.versions)
        let storage = SQLiteStorage(database: upgraded)
        #expect(try await storage.counts(namespace: "ns") == MemoryCounts(episodic: 0, semantic: 1))
        let found = try await storage.keywordSearch(namespace: "ns", query: KeywordQuery(term: "apple"), type: nil, limit: 5)
        #expect(found.map(\.version) == [3])
        let words = try await storage.wordSearch(namespace: "ns", query: WordQuery(parsing: "pineapple"), scoring: .standard, type: nil, limit: 5)
        #expect(words.hits.map(\.memory.version) == [3], "the upgrade indexes the record's words")
        #expect(
            try await storage.keywordSearch(namespace: "ns", query: KeywordQuery(term: "title"), type: nil, limit: 5).isEmpty, "keys are not indexed")
    }

    @Test func corruptOrUnwritableDataDirectoriesFailClearly() throws {
        let corrupt = temporaryDirectory()
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: (corrupt as NSString).appendingPathComponent(SQLiteDatabase.fileName)))
        #expect { _ = try SQLiteDatabase(directory: corrupt) } throws: { ($0 as? SQLiteOpenError)?.description.contains("corrupt") == true }

        let file = (temporaryDirectory() as NSString).appendingPathComponent("plain-file")
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        #expect { _ = try SQLiteDatabase(directory: file) } throws: { ($0 as? SQLiteOpenError)?.description.contains("not a directory") == true }

        let locked = temporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: locked)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: locked) }
        if getuid() != 0 {  // root may write anywhere, so the check only means something for other users
            #expect { _ = try SQLiteDatabase(directory: locked) } throws: { ($0 as? SQLiteOpenError)?.description.contains("not writable") == true }
        }
    }
}

@Suite struct SQLiteGraphReuseTests {
    @Test func aCleanStopSavesTheGraphAndTheNextStartReusesIt() async throws {
        let directory = temporaryDirectory()
        var parameters = ANNParameters()
        parameters.exactThreshold = 16
        let points = (0..<600).map { index in
            VectorPoint(
                id: UUID(), vector: HashEmbedder(dimension: 32).vector(for: "item \(index) topic \(index % 7)"), namespace: "ns", type: .episodic,
                version: 1, payload: [:])
        }
        do {
            let vectors = try await SQLiteVectorIndex(database: try SQLiteDatabase(directory: directory), dimension: 32, parameters: parameters)
            try await vectors.upsert(points)
            await vectors.index.waitForMerge()
            try await vectors.flush()
        }
        let reopened = try await SQLiteVectorIndex(database: try SQLiteDatabase(directory: directory), dimension: 32, parameters: parameters)
        #expect(reopened.index.pendingCount == 0, "every stored vector is already in the loaded graph")
        #expect(try await reopened.count(namespace: "ns") == 600)
        let hits = try await reopened.search(VectorQuery(vector: points[42].vector, namespace: "ns", limit: 1))
        #expect(hits.first?.id == points[42].id)
    }

    /// A process that never stops cleanly (killed, or the machine lost) still leaves a recent graph:
    /// the next start merges only what came after the last periodic save.
    @Test(arguments: [true, false])
    func aRunningServiceSavesItsGraphPeriodically(saving: Bool) async throws {
        let directory = temporaryDirectory()
        var parameters = ANNParameters()
        parameters.exactThreshold = 16
        parameters.saveInterval = saving ? .milliseconds(100) : nil
        let points = (0..<600).map { index in
            VectorPoint(
                id: UUID(), vector: HashEmbedder(dimension: 32).vector(for: "item \(index) topic \(index % 7)"), namespace: "ns", type: .episodic,
                version: 1, payload: [:])
        }
        let running = try await SQLiteVectorIndex(database: try SQLiteDatabase(directory: directory), dimension: 32, parameters: parameters)
        // The saver as `soma serve` runs it; cancelled, never shut down gracefully (that would save).
        let saver = Task { try await running.graphSaver.run() }
        defer { saver.cancel() }
        try await running.upsert(points)
        await running.index.waitForMerge()
        // Until a save that began after the last merge has finished.
        for _ in 0..<300 where saving && running.index.mergedSinceSave > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(
            FileManager.default.fileExists(atPath: GraphFiles(directory: directory, precision: running.index.graphPrecision).path("ns")) == saving)
        // No flush: the next start sees what a crash would leave.
        let restarted = try await SQLiteVectorIndex(database: try SQLiteDatabase(directory: directory), dimension: 32, parameters: parameters)
        #expect(try await restarted.count(namespace: "ns") == 600)
        if saving { #expect(restarted.index.pendingCount == 0, "every vector is in the graph saved while running") }
        let hits = try await restarted.search(VectorQuery(vector: points[42].vector, namespace: "ns", limit: 1))
        #expect(hits.first?.id == points[42].id)
        withExtendedLifetime(running) {}
    }
}

/// Counts committed write transactions.
final class CommitCounter: TransactionObserver, @unchecked Sendable {
    private let committed = Mutex(0)
    var count: Int { committed.withLock { $0 } }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { committed.withLock { $0 += 1 } }
    func databaseDidRollback(_ db: Database) {}
}

/// An embedder whose every call fails, as a remote one that is down.
struct UnansweringEmbedder: Embedder {
    var dimension: Int { 64 }
    var modelID: String { "unanswering-64" }
    func embed(_ texts: [String]) async throws -> [[Float]] { throw URLError(.cannotConnectToHost) }
}

/// A clean stop saves the vector entries beside the graphs, and a start reads them from there
/// while the table is as that stop left it; a change to the table by any writer, or a damaged
/// file, sends the start back to the table.
@Suite struct SQLiteSavedEntriesTests {
    enum AfterTheStop: CaseIterable {
        case nothing, tableChanged, fileCut
    }

    @Test(arguments: [(AfterTheStop.nothing, 0), (.tableChanged, 0), (.tableChanged, 1), (.fileCut, 0)])
    func aStartReadsTheSavedEntriesOnlyWhileTheyHoldTheTable(after: AfterTheStop, generation: Int) async throws {
        let directory = temporaryDirectory()
        var parameters = ANNParameters()
        parameters.exactThreshold = 16
        let points = (0..<300).map { (index: Int) -> VectorPoint in
            let namespace = index % 3 == 0 ? "other" : "ns"
            let type: MemoryType = index % 2 == 0 ? .semantic : .episodic
            let payload: JSONObject = ["n": .int(Int64(index)), "text": .string("item \(index)")]
            let vector = HashEmbedder(dimension: 32).vector(for: "item \(index) topic \(index % 7)")
            return VectorPoint(id: UUID(), vector: vector, namespace: namespace, type: type, version: index, payload: payload)
        }
        func open() async throws -> SQLiteVectorIndex {
            try await SQLiteVectorIndex(
                database: try SQLiteDatabase(directory: directory), dimension: 32, parameters: parameters, generation: generation)
        }
        let first = try await open()
        try await first.upsert(points)
        await first.index.waitForMerge()
        try await first.flush()
        let file = first.entriesSnapshot.path
        #expect(FileManager.default.fileExists(atPath: file))
        switch after {
        case .nothing: break
        case .tableChanged:
            // As another writer (sqlite3, an older build) would: a row gone, another changed.
            try await first.database.committer.write { db in
                try db.execute(sql: "DELETE FROM \(first.tables.vectors) WHERE id = ?", arguments: [SQLiteRecords.id(points[0].id)])
                try db.execute(sql: "UPDATE \(first.tables.vectors) SET version = 1000 WHERE id = ?", arguments: [SQLiteRecords.id(points[1].id)])
            }
        case .fileCut:
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            try data.prefix(data.count - 20).write(to: URL(fileURLWithPath: file))
        }
        let restarted = try await open()
        #expect(restarted.entriesWereSaved == (after == .nothing))
        #expect(FileManager.default.fileExists(atPath: file) == (after != .fileCut), "a damaged file goes, so the next stop writes it anew")
        // What the table holds, read from the table alone.
        try? FileManager.default.removeItem(atPath: file)
        let fromTable = try await open()
        #expect(!fromTable.entriesWereSaved)
        for namespace in ["ns", "other"] {
            #expect(restarted.index.entries(in: namespace) == fromTable.index.entries(in: namespace), "\(namespace)")
        }
        let entries = restarted.index.entries(in: "other")
        #expect(entries.count == (after == .tableChanged ? 99 : 100))
        #expect(entries[points[0].id] == nil || after != .tableChanged)
        #expect(restarted.index.entries(in: "ns")[points[1].id]?.version == (after == .tableChanged ? 1000 : 1))
        #expect(entries[points[3].id]?.payload == ["n": .int(3), "text": .string("item 3")])
        #expect(entries[points[3].id]?.type == .episodic)
        let hits = try await restarted.search(VectorQuery(vector: points[42].vector, namespace: "other", type: .semantic, limit: 1))
        #expect(hits.first?.id == points[42].id)
    }
}
