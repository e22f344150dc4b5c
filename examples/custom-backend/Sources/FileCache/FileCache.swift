import Foundation
import SomaCore
import Synchronization

/// A `MemoryCache` kept in files, one per key, so a restarted process finds its records warm. An
/// entry is written to a temporary file and renamed over the old one, so a reader sees a whole
/// entry or none. One process owns a directory: a lock in its memory orders the read-compare-write
/// of `put` (two processes sharing one directory could interleave). It declares no shared counters,
/// so each process counts its own rate limits.
public final class FileCache: MemoryCache {
    struct Entry: Codable {
        /// nil: a tombstone.
        var value: Data?
        var order: Int64
        /// Seconds since 1970.
        var expires: Double
    }

    public let directory: URL
    private let writing = Mutex(())

    public init(directory: String) throws {
        self.directory = URL(filePath: directory, directoryHint: .isDirectory)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    /// Keys hold ':' and '|'; a file name is their UTF-8 bytes in hexadecimal.
    func file(_ key: String) -> URL {
        directory.appending(path: key.utf8.map { String(format: "%02x", $0) }.joined() + ".entry")
    }

    private func read(_ key: String) -> Entry? {
        guard let data = try? Data(contentsOf: file(key)), let entry = try? JSONDecoder().decode(Entry.self, from: data) else { return nil }
        return entry.expires > Date().timeIntervalSince1970 ? entry : nil
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        read(key)?.value.map { Array($0) }
    }

    public func put(_ key: String, value: [UInt8]?, order: Int64, ttl: Duration) async throws {
        let seconds = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
        let entry = Entry(value: value.map { Data($0) }, order: order, expires: Date().timeIntervalSince1970 + seconds)
        try writing.withLock { _ in
            if let existing = read(key),
                !CacheOrdering.replaces(
                    newOrder: order, newIsValue: value != nil, existingOrder: existing.order, existingIsValue: existing.value != nil)
            {
                return
            }
            try JSONEncoder().encode(entry).write(to: file(key), options: .atomic)
        }
    }

    public func delete(_ keys: [String]) async throws {
        writing.withLock { _ in
            for key in keys { try? FileManager.default.removeItem(at: file(key)) }
        }
    }

    public func isHealthy() async -> Bool {
        FileManager.default.isWritableFile(atPath: directory.path())
    }
}
