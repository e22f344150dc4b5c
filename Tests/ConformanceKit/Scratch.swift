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
}
