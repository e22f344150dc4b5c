import Foundation
import GRDB
import Testing

@testable import SomaSQLite

@Suite struct InlineReadersTests {
    func database() throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(directory: temporaryDirectory())
        try database.pool.write { db in try db.execute(sql: "CREATE TABLE numbers (n INTEGER)") }
        return database
    }

    /// The calling thread never waits for a connection: with the only one busy, a second read is
    /// refused at once (the caller then awaits GRDB's pool), and the connection serves again after.
    @Test func aBusyConnectionIsNeverWaitedFor() throws {
        let database = try database()
        let readers = InlineReaders(path: database.path, busyTimeout: 1, limit: 1)
        let nested = try readers.read { _ in try readers.read { _ in 1 } }
        #expect(nested == .some(nil))
        #expect(try readers.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM numbers") } == 0)
        readers.close()
        #expect(try readers.read { _ in 1 } == nil, "a closed set of connections opens no more")
    }

    /// Each read sees every write committed before it began, in one snapshot.
    @Test func shortReadsSeeWhatWasCommitted() async throws {
        let database = try database()
        for n in 1...5 {
            try await database.committer.write { db in try db.execute(sql: "INSERT INTO numbers VALUES (?)", arguments: [n]) }
            let (count, sum) = try await database.shortRead { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM numbers")!, try Int.fetchOne(db, sql: "SELECT sum(n) FROM numbers")!)
            }
            #expect(count == n && sum == n * (n + 1) / 2)
        }
    }

    /// Awaited reads holding every reader of GRDB's pool do not stall short reads. Had a short
    /// read waited for one of those readers on a thread of Swift's pool, it would never get it:
    /// an awaited read gives its reader back only once its task resumes on such a thread.
    @Test(.timeLimit(.minutes(1))) func shortReadsGoOnWhileAwaitedReadsHoldThePool() async throws {
        let database = try database()
        try await database.committer.write { db in try db.execute(sql: "INSERT INTO numbers VALUES (7)") }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await database.pool.read { db in
                        Thread.sleep(forTimeInterval: 0.05)
                        return try Int.fetchOne(db, sql: "SELECT n FROM numbers")!
                    }
                }
            }
            for _ in 0..<200 {
                group.addTask { try await database.shortRead { db in try Int.fetchOne(db, sql: "SELECT n FROM numbers")! } }
            }
            for try await n in group { #expect(n == 7) }
        }
        database.close()
        await #expect(throws: (any Error).self, "after close, reads fail rather than reopen the file") {
            try await database.shortRead { db in try Int.fetchOne(db, sql: "SELECT 1") }
        }
    }
}
