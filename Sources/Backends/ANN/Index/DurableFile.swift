import Foundation

/// Files replaced whole, so that a crash leaves the old file or the new one, never a mix.
public enum DurableFile {
    /// Has `write` write the temporary path beside `path`, puts it on the disk, then renames it
    /// over `path` in one step; with `syncingDirectory`, syncs the directory so the rename itself
    /// is durable (a caller replacing many files may sync it once after the last).
    public static func replace(_ path: String, syncingDirectory: Bool = true, write: (String) throws -> Void) throws {
        let temporary = path + ".tmp"
        try write(temporary)
        try sync(temporary)
        guard rename(temporary, path) == 0 else { throw ANNError("cannot replace \(path): \(String(cString: strerror(errno)))") }
        if syncingDirectory { try sync((path as NSString).deletingLastPathComponent) }
    }

    /// Flushes a file's or a directory's contents to the disk.
    public static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ANNError("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw ANNError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
