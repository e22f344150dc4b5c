import Foundation

/// The saved graphs of a `NearestNeighbourIndex`: one file per namespace in a directory, each
/// replaced whole, so a crash or a power cut leaves the old graph or the new one, never a mix.
/// Graphs in half precision have files of their own (`.f16.hnsw`); a graph saved in the other
/// precision (before a change of precision) is converted as it loads, links kept.
struct GraphFiles {
    let directory: String
    let precision: GraphPrecision

    func path(_ namespace: String, in precision: GraphPrecision? = nil) -> String {
        let safe = namespace.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? String($0) : String(format: "_%02x", $0.value) }.joined()
        let suffix = (precision ?? self.precision) == .half ? ".f16.hnsw" : ".hnsw"
        return (directory as NSString).appendingPathComponent("ann-\(safe)\(suffix)")
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
            // The namespace's graph from before a change of precision is never read again.
            unlink(self.path(namespace, in: precision == .half ? .single : .half))
        }
        try Self.sync(directory)
    }

    /// The namespace's saved graph, if there is one that loads.
    /// The namespace's saved graph, if there is one that loads; `converted` when it was saved in
    /// the other precision (saving it again spares the next start the conversion).
    func load(_ namespace: String, dimension: Int, parameters: ANNParameters) -> (graph: HNSWGraph, converted: Bool)? {
        let other = path(namespace, in: precision == .half ? .single : .half)
        guard let path = [path(namespace), other].first(where: FileManager.default.fileExists(atPath:)),
            let graph = try? HNSWGraph(
                loading: path, dimension: dimension, precision: precision, efConstruction: parameters.efConstruction,
                efSearch: parameters.efSearch)
        else { return nil }
        return (graph, path == other)
    }

    /// Flushes a file's or a directory's contents to the disk.
    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ANNError("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw ANNError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
