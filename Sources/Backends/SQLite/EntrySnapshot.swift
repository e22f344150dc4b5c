import Foundation
import GRDB
import GRDBSQLite
import Logging
import SomaANN
import SomaCore

/// A generation's vector entries as the last clean stop left them, in one file beside its graphs.
/// A start reads that file in order instead of the table, whose pages a million writes through
/// the API leave spread over the whole data file, each waited for from the disk (BENCHMARKS.md).
///
/// The file names the change token it was taken at. Triggers (`SQLiteMigrations.changeToken`)
/// give the table a fresh random token at every change, by any writer, so a file whose token is
/// not the table's is stale and the start reads the table. Random rather than counted: a data
/// file restored from a copy could count its way back to a stale file's number.
struct EntrySnapshot: Sendable {
    static let fileName = "vector-entries.snapshot"
    static let tokenKey = "entries_token"

    let path: String
    let entries: String
    let meta: String
    let pool: DatabasePool

    init(directory: String, entries: String, meta: String, pool: DatabasePool) {
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        (self.entries, self.meta, self.pool) = (entries, meta, pool)
    }

    private func token(_ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM \(meta) WHERE key = '\(Self.tokenKey)'")
    }

    /// Writes the file unless it holds the table as it is. Rows and token come from one read
    /// transaction, so they agree whatever is written meanwhile.
    func save() async throws {
        let (path, entries) = (path, entries)
        try await pool.read { db in
            guard let token = try token(db), (try? Self.header(of: path)) != token else { return }
            try DurableFile.replace(path) { temporary in
                var file = try SnapshotWriter(path: temporary)
                file.append(SnapshotReader.magic)
                file.append(text: Array(token.utf8))
                let statement = try db.makeStatement(sql: "SELECT namespace, id, type, version, label, payload FROM \(entries)")
                let columns = statement.sqliteStatement
                let rows = try Row.fetchCursor(statement)
                var count: UInt64 = 0
                while try rows.next() != nil {
                    for column: Int32 in [0, 1, 2] { file.append(text: StoredEntries.bytes(columns, column)) }
                    file.append(integer: UInt64(bitPattern: sqlite3_column_int64(columns, 3)))
                    file.append(integer: UInt64(bitPattern: sqlite3_column_int64(columns, 4)))
                    file.append(text: StoredEntries.bytes(columns, 5))
                    count += 1
                    try file.flushIfFull()
                }
                file.append(integer: count)  // the end: a file cut short does not end in its count
                try file.close()
            }
        }
    }

    /// The entries, when the file holds the table as it is now; else nil (the table is read).
    func load() async -> StoredEntries.Entries? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let token = try await pool.read { db in try self.token(db) }
            // Mapped, not read: the header decides whether the rest is read at all.
            let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            let entries = try data.withUnsafeBytes { raw -> StoredEntries.Entries? in
                var file = SnapshotReader(bytes: raw)
                guard let token, try file.header() == token else { return nil }
                return try Self.read(&file)
            }
            if entries == nil {
                SQLiteVectorIndex.logger.info(
                    "the vector entries saved at the last stop no longer match the table (it was written since, or the stop was not clean); reading the table",
                    metadata: ["file": "\(path)"])
            }
            return entries
        } catch {
            SQLiteVectorIndex.logger.warning(
                "the vector entries saved at the last stop cannot be read; reading the table", metadata: ["file": "\(path)", "error": "\(error)"])
            // Else the next stop, finding the table's token in its header, would keep it.
            try? FileManager.default.removeItem(atPath: path)
            return nil
        }
    }

    private static func header(of path: String) throws -> String {
        guard let file = FileHandle(forReadingAtPath: path) else { throw SnapshotReader.Malformed() }
        defer { try? file.close() }
        let start = try file.read(upToCount: 4096) ?? Data()
        return try start.withUnsafeBytes { raw in
            var reader = SnapshotReader(bytes: raw)
            return try reader.header()
        }
    }

    /// The entries after the header.
    private static func read(_ file: inout SnapshotReader) throws -> StoredEntries.Entries {
        var decoder = StoredEntries.Decoder()
        var entries: StoredEntries.Entries = []
        while file.remaining > 8 {
            let namespace = try file.text(), id = try file.text(), type = try file.text()
            let version = try file.integer(), label = try file.integer()
            entries.append(try decoder.entry(namespace: namespace, id: id, type: type, version: version, label: label, payload: file.text()))
        }
        guard file.remaining == 8, try file.integer() == entries.count else { throw SnapshotReader.Malformed() }
        return entries
    }
}

/// Appends to a file through a buffer of about a megabyte.
private struct SnapshotWriter {
    let handle: FileHandle
    var buffer: [UInt8] = []

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        buffer.reserveCapacity(1 << 21)
    }

    mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    mutating func append(integer: UInt64) { withUnsafeBytes(of: integer.littleEndian) { buffer.append(contentsOf: $0) } }

    /// A length, then the bytes.
    mutating func append(text: some Collection<UInt8>) {
        withUnsafeBytes(of: UInt32(text.count).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: text)
    }

    mutating func flushIfFull() throws {
        guard buffer.count >= 1 << 20 else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        try handle.write(contentsOf: buffer)
        try handle.close()
    }
}

/// Reads what `SnapshotWriter` wrote, refusing what runs past the end.
private struct SnapshotReader {
    struct Malformed: Error, CustomStringConvertible {
        var description: String { "not a whole vector entries file" }
    }

    static let magic = Array("SOMAENT1".utf8)

    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var remaining: Int { bytes.count - offset }

    mutating func header() throws -> String {
        guard remaining >= 8, bytes[0..<8].elementsEqual(Self.magic) else { throw Malformed() }
        offset = 8
        return String(decoding: try text(), as: UTF8.self)
    }

    mutating func integer() throws -> Int {
        guard remaining >= 8 else { throw Malformed() }
        defer { offset += 8 }
        return Int(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
    }

    mutating func text() throws -> UnsafeBufferPointer<UInt8> {
        guard remaining >= 4 else { throw Malformed() }
        let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        guard remaining - 4 >= count else { throw Malformed() }
        defer { offset += 4 + count }
        return UnsafeBufferPointer(start: bytes.baseAddress.map { ($0 + offset + 4).assumingMemoryBound(to: UInt8.self) }, count: count)
    }
}
