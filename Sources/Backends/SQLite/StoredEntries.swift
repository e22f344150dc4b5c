import Foundation
import GRDB
import GRDBSQLite
import SomaANN
import SomaCore

/// Every entry of a generation's vector table (id, namespace, type, version, payload, label), read
/// at start-up through SQLite's column accessors. GRDB's rows looked each column up by name and
/// made a String of every id and payload before parsing it: 2.7 s of a million entries' read,
/// against 0.3 s for SQLite's own scan.
enum StoredEntries {
    typealias Entries = [(namespace: String, entry: NearestNeighbourIndex.Entry)]

    /// The table read in `parts` ranges of rowids at once, each on a reader of its own, in rowid
    /// order. A table that grew with the records has its pages spread over the whole file: one
    /// reader waited for each page from the disk in turn. Nothing writes meanwhile (the data
    /// directory's lock keeps other processes out, and this one serves nothing yet), so the parts'
    /// snapshots agree.
    static func read(from table: String, in pool: DatabasePool, parts: Int = 4) async throws -> Entries {
        let bounds = try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT min(rowid) AS low, max(rowid) AS high FROM \(table)").map {
                ($0["low"] as Int64?, $0["high"] as Int64?)
            }
        }
        guard case let (low?, high?)? = bounds else { return [] }
        let step = (high - low) / Int64(parts) + 1
        return try await withThrowingTaskGroup(of: (Int, Entries).self) { group in
            for part in 0..<parts {
                let first = low + Int64(part) * step
                group.addTask { (part, try await pool.read { db in try read(from: table, rowids: first...(first + step - 1), db) }) }
            }
            var byPart = [Entries](repeating: [], count: parts)
            for try await (part, entries) in group { byPart[part] = entries }
            var entries = Entries()
            entries.reserveCapacity(byPart.reduce(0) { $0 + $1.count })
            for part in byPart { entries.append(contentsOf: part) }
            return entries
        }
    }

    static func read(from table: String, rowids: ClosedRange<Int64>, _ db: Database) throws -> Entries {
        let statement = try db.makeStatement(
            sql: "SELECT namespace, id, type, version, label, payload FROM \(table) WHERE rowid BETWEEN \(rowids.lowerBound) AND \(rowids.upperBound)"
        )
        let columns = statement.sqliteStatement
        var decoder = Decoder()
        var entries: Entries = []
        let rows = try Row.fetchCursor(statement)
        while try rows.next() != nil {
            entries.append(
                try decoder.entry(
                    namespace: bytes(columns, 0), id: bytes(columns, 1), type: bytes(columns, 2), version: Int(sqlite3_column_int64(columns, 3)),
                    label: Int(sqlite3_column_int64(columns, 4)), payload: bytes(columns, 5)))
        }
        return entries
    }

    /// A text column's bytes in the current row, valid until the statement steps.
    static func bytes(_ statement: SQLiteStatement, _ column: Int32) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: sqlite3_column_text(statement, column), count: Int(sqlite3_column_bytes(statement, column)))
    }

    /// Entries from their stored bytes (the table's columns, or `EntrySnapshot`'s file).
    struct Decoder {
        // Rows of one namespace mostly come together: the last row's namespace and type are reused.
        private var namespace = Recurring { String(decoding: $0, as: UTF8.self) }
        private var type = Recurring { MemoryType(rawValue: String(decoding: $0, as: UTF8.self)) ?? .episodic }

        mutating func entry(
            namespace: UnsafeBufferPointer<UInt8>, id: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>, version: Int, label: Int,
            payload: UnsafeBufferPointer<UInt8>
        ) throws -> (namespace: String, entry: NearestNeighbourIndex.Entry) {
            guard let uuid = UUID(parsingUTF8: id) else { throw DatabaseError(message: "a stored vector's id is not a UUID") }
            let entry = NearestNeighbourIndex.Entry(
                id: uuid, label: label, type: self.type.value(of: type), version: version, payload: try JSONReader.object(payload))
            return (self.namespace.value(of: namespace), entry)
        }
    }

    /// A value decoded from a column's bytes, decoded again only when the bytes differ from the last.
    private struct Recurring<Value> {
        let decode: (UnsafeBufferPointer<UInt8>) -> Value
        var last: (bytes: [UInt8], value: Value)?

        init(_ decode: @escaping (UnsafeBufferPointer<UInt8>) -> Value) { self.decode = decode }

        mutating func value(of bytes: UnsafeBufferPointer<UInt8>) -> Value {
            if let last, last.bytes.elementsEqual(bytes) { return last.value }
            let value = decode(bytes)
            last = (Array(bytes), value)
            return value
        }
    }
}
