import Foundation
import Synchronization

/// The saved graphs of a `NearestNeighbourIndex`: one file per namespace in a directory, each
/// replaced whole, so a crash or a power cut leaves the old graph or the new one, never a mix.
/// Graphs in half precision have files of their own (`.f16.hnsw`); a graph saved in the other
/// precision (before a change of precision) is converted as it loads, links kept.
struct GraphFiles {
    let directory: String
    let precision: GraphPrecision

    func path(_ namespace: String, in precision: GraphPrecision? = nil) -> String {
        base(namespace) + Self.suffix(precision ?? self.precision)
    }

    /// A namespace's file path without its precision's suffix.
    func base(_ namespace: String) -> String {
        let safe = namespace.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? String($0) : String(format: "_%02x", $0.value) }.joined()
        return (directory as NSString).appendingPathComponent("ann-\(safe)")
    }

    private static func suffix(_ precision: GraphPrecision) -> String { precision == .half ? ".f16.hnsw" : ".hnsw" }

    /// Replaces each graph's file (`DurableFile`), then syncs the directory once for all renames.
    func replace(with graphs: [(namespace: String, graph: HNSWGraph)]) throws {
        for (namespace, graph) in graphs {
            try DurableFile.replace(path(namespace), syncingDirectory: false) { try graph.save(to: $0) }
            // The namespace's graph from before a change of precision is never read again.
            unlink(self.path(namespace, in: precision == .half ? .single : .half))
        }
        try DurableFile.sync(directory)
    }

    /// Every saved graph in the directory that loads, by `base` of its namespace (read before the
    /// namespaces are known, beside the rows that name them); `converted` when it was saved in the
    /// other precision (saving it again spares the next start the conversion). Where a namespace
    /// has a file in each precision (a crash between a save's rename and its unlink), this one's.
    func loadAll(dimension: Int, parameters: ANNParameters) -> [String: (graph: HNSWGraph, converted: Bool)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let bases = Set(
            names.compactMap { name -> String? in
                guard name.hasPrefix("ann-") else { return nil }
                return [Self.suffix(.half), Self.suffix(.single)].first(where: name.hasSuffix).map { String(name.dropLast($0.count)) }
            })
        var graphs: [String: (graph: HNSWGraph, converted: Bool)] = [:]
        for base in bases.map({ (directory as NSString).appendingPathComponent($0) }) {
            let own = base + Self.suffix(precision), other = base + Self.suffix(precision == .half ? .single : .half)
            guard let path = [own, other].first(where: FileManager.default.fileExists(atPath:)),
                let graph = try? HNSWGraph(
                    loading: path, dimension: dimension, precision: precision, efConstruction: parameters.efConstruction,
                    efSearch: parameters.efSearch)
            else { continue }
            graphs[base] = (graph, path == other)
        }
        return graphs
    }
}

/// The graphs a directory held at start-up, each taken by the namespace it belongs to.
public final class SavedGraphs: Sendable {
    private let files: GraphFiles
    private let graphs: Mutex<[String: (graph: HNSWGraph, converted: Bool)]>

    init(files: GraphFiles, dimension: Int, parameters: ANNParameters) {
        self.files = files
        graphs = Mutex(files.loadAll(dimension: dimension, parameters: parameters))
    }

    /// The namespace's graph, once: `converted` when it was saved in the other precision.
    func graph(of namespace: String) -> (graph: HNSWGraph, converted: Bool)? {
        graphs.withLock { $0.removeValue(forKey: files.base(namespace)) }
    }
}
