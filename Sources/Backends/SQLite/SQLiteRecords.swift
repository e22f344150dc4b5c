import Foundation
import GRDB
import SomaCore

/// How records map to rows. Times are stored as seconds since the reference date, the form `Date`
/// holds, so they round-trip exactly.
enum SQLiteRecords {
    /// Payload text with sorted keys, as JSONEncoder's `.sortedKeys` writes it.
    static func json(_ payload: JSONObject) -> String {
        JSONWriter.text(.object(payload))
    }

    /// A coordinate's numbers as a JSON array.
    static func json(_ coordinate: Coordinate) -> String {
        JSONWriter.text(.array(coordinate.values.map(JSONValue.double)))
    }

    static func payload(_ text: String) throws -> JSONObject {
        try JSONReader.object(text)
    }

    /// The columns `memory(_:)` reads, in the order it reads them by position (looked up by name, each
    /// read lowercased the name: a few percent of a search's CPU). A query may select more after them.
    static let columns = columns(of: "")
    private static let columnNames = [
        "id", "namespace", "coordinate", "type", "payload", "importance", "created_at", "updated_at", "version", "expires_at", "embedding_model",
    ]
    /// The position of the first column a query selects after `columns`.
    static let columnsAfter = columnNames.count

    /// `columns` of a table alias (`m.id, m.namespace, ...`).
    static func columns(of alias: String) -> String {
        columnNames.map { alias.isEmpty ? $0 : "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// The record of a row that starts with `columns`.
    static func memory(_ row: Row) throws -> Memory {
        let expires: Double? = row[9]
        let namespace: String = row[1]
        let coordinate = try Coordinate(try JSONReader.numbers(row[2]), maxDimensions: .max)
        // The stored key, which cursors walk by.
        return Memory(
            id: UUID(parsing: row[0]) ?? MemoryID.make(namespace: namespace, coordinate: coordinate), namespace: namespace,
            coordinate: coordinate, type: MemoryType(rawValue: row[3]) ?? .episodic, payload: try payload(row[4]), importance: row[5],
            createdAt: Date(timeIntervalSinceReferenceDate: row[6]), updatedAt: Date(timeIntervalSinceReferenceDate: row[7]),
            version: row[8], expiresAt: expires.map(Date.init(timeIntervalSinceReferenceDate:)), embeddingModel: row[10])
    }

    static func id(_ id: UUID) -> String { id.text(lowercase: true) }

    /// `?, ?, ...`: one parameter mark per value of an `IN (...)` list.
    static func marks(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ",") }

    /// An `IN (...)` list's marks and values, padded with NULLs (equal to nothing) to a power of two,
    /// so one compiled statement serves lists of similar sizes (`listStatement`).
    static func paddedList(_ values: [some DatabaseValueConvertible]) -> PaddedList {
        let size = 1 << (Int.bitWidth - max(values.count - 1, 0).leadingZeroBitCount)
        // Database values, not optional existentials: boxing each cost 1.7% of a hybrid recall.
        var padded = values.map(\.databaseValue)
        padded.append(contentsOf: repeatElement(.null, count: size - values.count))
        return PaddedList(
            marks: size.trailingZeroBitCount < paddedMarks.count ? paddedMarks[size.trailingZeroBitCount] : marks(size),
            arguments: StatementArguments(padded),
            size: size)
    }

    /// `marks(1)`, `marks(2)`, `marks(4)`, ... `marks(1024)`, written once.
    private static let paddedMarks = (0...10).map { marks(1 << $0) }

    struct PaddedList: Sendable {
        let marks: String
        let arguments: StatementArguments
        let size: Int
    }

    /// The statement for `sql`, kept compiled when its lists are padded to at most `cachedListSize`
    /// marks (compiling each search's statements took about 5% of its CPU); larger ones are compiled once.
    static func listStatement(_ db: Database, _ sql: String, largestList: Int) throws -> Statement {
        largestList <= cachedListSize ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }

    static let cachedListSize = 128
}

/// The text full-text search indexes for a payload: its string values, one per line.
enum SearchText {
    static func of(_ payload: JSONObject) -> String {
        KeywordQuery.searchableText(payload)
    }

    static func of(payloadJSON: String) -> String {
        (try? SQLiteRecords.payload(payloadJSON)).map(of) ?? ""
    }
}
