import GRDB
import Testing
@testable import SomaSQLite

@Suite struct SQLiteListTests {
    /// Lists are padded to a power of two with NULLs, which `IN` never matches.
    @Test(arguments: [(0, 1), (1, 1), (2, 2), (3, 4), (5, 8), (64, 64), (65, 128), (130, 256)])
    func paddedToAPowerOfTwo(count: Int, size: Int) throws {
        let values = (0..<Int64(count)).map { $0 * 2 }
        let list = SQLiteRecords.paddedList(values)
        #expect(list.size == size)
        #expect(list.marks.split(separator: ",").count == size)
        let queue = try DatabaseQueue()
        let found = try queue.read { db in
            try Int64.fetchAll(
                db,
                sql:
                    "WITH n(value) AS (SELECT 0 UNION ALL SELECT value + 1 FROM n WHERE value < 300) SELECT value FROM n WHERE value IN (\(list.marks))",
                arguments: list.arguments)
        }
        #expect(found == values)
    }
}
