import Foundation

/// The saved graphs of a `NearestNeighbourIndex`: one file per namespace in a directory, each
/// replaced whole, so a crash or a power cut leaves the old graph or the new one, never a mix.
struct GraphFiles {
    let directory: String

    func path(_ namespace: String) -> String {
        let safe = namespace.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? String($0) : String(format: "_%02x", $0.value) }.joined()
        return (directory as NSString).appendingPathComponent("ann-\(safe).hnsw")
    }

    /// Writes each graph beside its file, on disk before rename(2) replaces the old file in one step,
    /// then syncs the directory so the renames themselves are durable.
    func replace(with graphs: [(namespace: String, graph: HNSWGraph)]) throws {
        for (namespace, graph) in graphs {
            let path = path(namespace)
            try graph.save(to: path + ".tmp")
            try Self.sync(path + ".tmp")
            guard rename(path + ".tmp", path) == 0 else {
                throw ANNError("cannot replace \(path): \(String(cString: strerror(errno)))")
            }
        }
        try Self.sync(directory)
    }

    /// The namespace's saved graph, if there is one that loads.
    func load(_ namespace: String, dimension: Int, parameters: ANNParameters) -> HNSWGraph? {
        let path = path(namespace)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try? HNSWGraph(loading: path, dimension: dimension, efConstruction: parameters.efConstruction, efSearch: parameters.efSearch)
    }

    /// Flushes a file's or a directory's contents to the disk.
    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ANNError("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw ANNError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
