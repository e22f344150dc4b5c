import ConformanceKit
import Foundation
import SomaANN
import SomaCore
import Testing
@testable import SomaSQLite

/// A new data directory; one that cannot be made fails the test where it is opened, naming the path.
func temporaryDirectory() -> String {
    (try? Scratch.directory("soma-sqlite")) ?? Scratch.path("soma-sqlite").path
}

@Suite("SQLite backends meet the ConformanceKit suites")
struct SQLiteConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func storage(_ check: StorageConformance.Check) async throws {
        try await check.run(SQLiteStorage(database: try SQLiteDatabase(directory: temporaryDirectory())))
    }

    /// Word search again with every word's holders kept between searches (`WordHeads`; by default
    /// only words held by hundreds of memories are), so updates and deletes must reach the kept ones.
    @Test(arguments: WordSearchConformance.checks)
    func wordSearchWithEveryWordKept(_ check: StorageConformance.Check) async throws {
        let heads = WordHeads<Int64>(minimumHolders: 1)
        try await check.run(SQLiteStorage(database: try SQLiteDatabase(directory: temporaryDirectory()), wordHeads: heads))
        #expect(heads.count > 0)
    }

    @Test func wordSearchPastTheHoldersRead() async throws {
        try await WordSearchConformance.pastTheHoldersRead.run(SQLiteStorage(database: try SQLiteDatabase(directory: temporaryDirectory())))
    }

    @Test(arguments: VectorConformance.checks)
    func vector(_ check: VectorConformance.Check) async throws {
        let database = try SQLiteDatabase(directory: temporaryDirectory())
        try await check.run(try await SQLiteVectorIndex(database: database, dimension: VectorConformance.dimension))
    }

    @Test(arguments: RecordBoundConformance.checks)
    func vectorsInTheRecordsTransaction(_ check: RecordBoundConformance.Check) async throws {
        let database = try SQLiteDatabase(directory: temporaryDirectory())
        let vectors = try await SQLiteVectorIndex(database: database, dimension: VectorConformance.dimension)
        try await check.run(BoundPair(storage: SQLiteStorage(database: database), vectors: vectors))
    }

    /// Their row of the ability matrix.
    @Test func declaredAbilities() async throws {
        let database = try SQLiteDatabase(directory: temporaryDirectory())
        #expect(Abilities.of(SQLiteStorage(database: database)) == [.wordSearch, .sharedTransactions])
        #expect(Abilities.of(try await SQLiteVectorIndex(database: database, dimension: 4)) == [.vectorsInRecordTransaction])
        #expect(Abilities.of(InMemoryANNIndex(dimension: 4)).isEmpty)
    }

    @Test(arguments: VectorConformance.checks)
    func inMemoryGraph(_ check: VectorConformance.Check) async throws {
        var parameters = ANNParameters()
        parameters.exactThreshold = 0
        try await check.run(InMemoryANNIndex(dimension: VectorConformance.dimension, parameters: parameters))
    }

    /// The same vector suite with the graph in use from the first vector on.
    @Test(arguments: VectorConformance.checks)
    func vectorThroughTheGraph(_ check: VectorConformance.Check) async throws {
        var parameters = ANNParameters()
        parameters.exactThreshold = 0
        let database = try SQLiteDatabase(directory: temporaryDirectory())
        try await check.run(try await SQLiteVectorIndex(database: database, dimension: VectorConformance.dimension, parameters: parameters))
    }
}

@Suite struct SQLiteVectorHealthTests {
    /// The vector index answers from memory, so its health is a real read of the table it comes from.
    @Test func healthReadsTheVectorTable() async throws {
        let database = try SQLiteDatabase(directory: temporaryDirectory())
        let vectors = try await SQLiteVectorIndex(database: database, dimension: 4)
        #expect(await vectors.isHealthy())
        try await database.committer.write { db in try db.execute(sql: "DROP TABLE vectors") }
        #expect(await !vectors.isHealthy(), "a vector table that cannot be read must not report healthy")
    }
}
