import Foundation
import GRDB
import SomaCore
import Synchronization

/// The data file `soma.sqlite` in the data directory, opened once and shared by the storage and
/// vector backends. Problems with the directory or the file fail start-up with a clear message.
public final class SQLiteDatabase: Sendable {
    public static let fileName = "soma.sqlite"

    public let directory: String
    public let pool: DatabasePool
    let committer: GroupCommitter
    private let inlineReaders: InlineReaders
    /// This process's hold on the directory, for as long as the database is open.
    private let lock: DataDirectoryLock
    private let closed = Mutex(false)

    public var path: String { (directory as NSString).appendingPathComponent(Self.fileName) }

    public init(directory: String) throws {
        self.directory = directory
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw SQLiteOpenError("data directory \(directory) is a file, not a directory") }
        } else {
            do {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw SQLiteOpenError("data directory: \(FileProblem.creatingDirectory(directory, error))")
            }
        }
        guard manager.isWritableFile(atPath: directory) else {
            throw SQLiteOpenError("data directory \(directory) is not writable by this user")
        }
        let lock = try DataDirectoryLock.acquire(directory)
        self.lock = lock
        var opened = false
        defer { if !opened { lock.release() } }
        var configuration = Configuration()
        let busyTimeout: TimeInterval = 10
        configuration.busyMode = .timeout(busyTimeout)
        let file = (directory as NSString).appendingPathComponent(Self.fileName)
        do {
            pool = try DatabasePool(path: file, configuration: configuration)
            // FULL: a commit is on disk (the WAL fsynced) before it returns, so an acknowledged
            // write survives a power cut, not only a crash of this process. Set after opening:
            // GRDB turns the writer to NORMAL when it enables WAL, after `prepareDatabase` ran.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try SQLiteMigrations.migrator.migrate(pool)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            throw SQLiteOpenError(
                "\(file) is corrupt or not a SomaFractalMemory database (\(error.resultCode)); restore it from a backup or move it away")
        } catch let error as DatabaseError {
            throw SQLiteOpenError("cannot open \(file): \(error.message ?? "\(error.resultCode)")")
        }
        committer = GroupCommitter(writer: pool)
        inlineReaders = InlineReaders(path: file, busyTimeout: busyTimeout)
        opened = true
    }

    /// Closes the file and lets the directory go (once; later calls do nothing).
    public func close() {
        guard
            closed.withLock({ closed in
                defer { closed = true }; return !closed
            })
        else { return }
        inlineReaders.close()
        try? pool.close()
        lock.release()
    }

    /// A short read (a record, recall's hits, a word search: index seeks, no scan) in one snapshot,
    /// on the calling thread when a connection of `InlineReaders` is free, else on GRDB's reader queue.
    public func shortRead<T: Sendable>(_ read: @Sendable (Database) throws -> T) async throws -> T {
        if let value = try inlineReaders.read(read) { return value }
        return try await pool.read(read)
    }

    /// Applied migration identifiers, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try SQLiteMigrations.migrator.appliedMigrations(db) }
    }
}

public struct SQLiteOpenError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
