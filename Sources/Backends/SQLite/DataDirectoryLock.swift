import Foundation
import SomaCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One process owns a data directory: an exclusive `flock` on `<dir>/soma.lock`, held while any
/// database of the directory is open in this process. The kernel drops the lock when the process
/// ends, however it ends (a SIGKILL leaves nothing stale behind); the file holds the owner's process
/// id so a refused opener can name it. Opens within one process share the lock.
final class DataDirectoryLock: Sendable {
    static let fileName = "soma.lock"

    let directory: String
    private let descriptor: Int32

    private init(directory: String, descriptor: Int32) {
        self.directory = directory
        self.descriptor = descriptor
    }

    /// Holders in this process by directory, with how many opens share each.
    private static let held = Mutex<[String: (lock: DataDirectoryLock, opens: Int)]>([:])

    /// Takes the directory's lock (or shares this process's), or fails naming the process that holds it.
    static func acquire(_ directory: String) throws -> DataDirectoryLock {
        let key = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        return try held.withLock { held in
            if let entry = held[key] {
                held[key] = (entry.lock, entry.opens + 1)
                return entry.lock
            }
            let path = (key as NSString).appendingPathComponent(fileName)
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw SQLiteOpenError("cannot open \(path) to lock the data directory: \(String(cString: strerror(errno)))")
            }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                close(descriptor)
                throw HeldByAnotherProcess(
                    resource: "data directory \(directory)", holder: Int32(holder),
                    remedy: "stop it, or give this process another \(SharedSettings.dataDirectory.name)")
            }
            let pid = "\(getpid())\n"
            _ = ftruncate(descriptor, 0)
            _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
            let lock = DataDirectoryLock(directory: key, descriptor: descriptor)
            held[key] = (lock, 1)
            return lock
        }
    }

    /// One open fewer; the last one lets the directory go.
    func release() {
        Self.held.withLock { held in
            guard let entry = held[directory], entry.lock === self else { return }
            if entry.opens > 1 {
                held[directory] = (self, entry.opens - 1)
            } else {
                held[directory] = nil
                close(descriptor)
            }
        }
    }
}
