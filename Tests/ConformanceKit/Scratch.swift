import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where tests put their data directories and files: one directory per test process under the
/// system's temporary directory, removed when the process exits. Each run used to leave its
/// directories behind (about 2 GB over a few dozen runs, most of it copies of the model's weights).
/// Logs of child processes stay in the temporary directory itself, to be read after a failure.
public enum Scratch {
    public static let root: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("soma-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return root
    }()

    /// A fresh path under `root`, `prefix-UUID` then `suffix`; nothing is created.
    public static func path(_ prefix: String, suffix: String = "") -> URL {
        root.appendingPathComponent("\(prefix)-\(UUID().uuidString)\(suffix)")
    }

    /// A new, empty directory under `root` (at `path(prefix)`).
    public static func directory(_ prefix: String) throws -> String {
        let path = path(prefix).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
