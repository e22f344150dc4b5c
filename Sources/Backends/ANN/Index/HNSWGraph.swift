import CHNSW
import Foundation

/// An hnswlib graph behind its C API. Searches and saves run side by side; the shim takes an
/// exclusive lock itself for adding and deleting, so the handle may be shared.
final class HNSWGraph: @unchecked Sendable {
    private let handle: OpaquePointer
    let dimension: Int

    /// Whether this CPU can keep graph vectors in half precision.
    static let halfSupported = chnsw_half_supported() == 1

    /// `vector` as a half-precision graph stores it (where `halfSupported`).
    static func roundedToHalf(_ vector: [Float]) -> [Float] {
        var rounded = vector
        rounded.withUnsafeMutableBufferPointer { chnsw_round_to_half($0.baseAddress, $0.count) }
        return rounded
    }

    init(dimension: Int, precision: GraphPrecision, capacity: Int, m: Int, efConstruction: Int, efSearch: Int) throws {
        guard let handle = chnsw_create(Int32(dimension), precision == .half ? 1 : 0, capacity, m, efConstruction, 100) else {
            throw ANNError("cannot create an HNSW index of dimension \(dimension) in \(precision) precision")
        }
        self.handle = handle
        self.dimension = dimension
        chnsw_set_ef(handle, efSearch)
    }

    /// `efConstruction` replaces the saved graph's build breadth for the vectors added from now on.
    init(loading path: String, dimension: Int, precision: GraphPrecision, efConstruction: Int, efSearch: Int) throws {
        var message = [CChar](repeating: 0, count: 256)
        guard let handle = chnsw_load(path, Int32(dimension), precision == .half ? 1 : 0, &message, message.count) else {
            throw ANNError(
                "cannot load HNSW index \(path): \(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        self.handle = handle
        self.dimension = dimension
        chnsw_set_ef_construction(handle, efConstruction)
        chnsw_set_ef(handle, efSearch)
    }

    deinit { chnsw_free(handle) }

    func add(_ vector: [Float], label: Int) throws {
        precondition(vector.count == dimension)
        guard vector.withUnsafeBufferPointer({ chnsw_add(handle, $0.baseAddress, label) }) == 0 else {
            throw ANNError("HNSW insert failed")
        }
    }

    func markDeleted(_ label: Int) {
        _ = chnsw_mark_deleted(handle, label)
    }

    /// Nearest labels first, with cosine similarity (inside [-1, 1]: half precision's rounding
    /// puts a vector's distance to itself slightly below 0).
    func search(_ query: [Float], k: Int) -> [(label: Int, similarity: Double)] {
        guard k > 0, query.count == dimension else { return [] }
        var labels = [Int](repeating: 0, count: k)
        var distances = [Float](repeating: 0, count: k)
        let found = query.withUnsafeBufferPointer { chnsw_search(handle, $0.baseAddress, k, &labels, &distances) }
        return (0..<found).map { (labels[$0], Self.similarity(1 - Double(distances[$0]))) }
    }

    /// A computed cosine kept inside [-1, 1], which rounding (half precision's most) can step out of.
    static func similarity(_ cosine: Double) -> Double { min(1, max(-1, cosine)) }

    /// The vector a live label holds, or nil when the label is absent or deleted.
    func vector(label: Int) -> [Float]? {
        var vector = [Float](repeating: 0, count: dimension)
        return chnsw_vector(handle, label, &vector) == 0 ? vector : nil
    }

    func save(to path: String) throws {
        guard chnsw_save(handle, path) == 0 else { throw ANNError("cannot save HNSW index to \(path)") }
    }

    var count: Int { chnsw_count(handle) }

    /// The highest label ever given to the graph, deleted ones included (-1 when empty).
    var highestLabel: Int { Int(chnsw_max_label(handle)) }

    /// How alike each live point (of `only`, when given) is to its closest neighbour in the graph.
    func linkSimilarities(only: [Int]? = nil) -> [(label: Int, similarity: Float)] {
        let capacity = max(only?.count ?? count, 1)
        var labels = [Int](repeating: 0, count: capacity)
        var similarities = [Float](repeating: 0, count: capacity)
        let found =
            if let only {
                chnsw_link_similarities(handle, only, only.count, &labels, &similarities, capacity)
            } else {
                chnsw_link_similarities(handle, nil, 0, &labels, &similarities, capacity)
            }
        return (0..<found).map { (labels[$0], similarities[$0]) }
    }

    /// The query's similarity to each of `labels` as the graph holds them (nil where a label is gone).
    func similarities(of query: [Float], to labels: [Int]) -> [Double?] {
        guard !labels.isEmpty else { return [] }
        var similarities = [Float](repeating: 0, count: labels.count)
        chnsw_similarities(handle, query, labels, labels.count, &similarities)
        return similarities.map { $0 < -1.5 ? nil : Self.similarity(Double($0)) }
    }

    /// Labels in the graph that are not deleted.
    func liveLabels() -> [Int] {
        var labels = [Int](repeating: 0, count: max(count, 1))
        let found = chnsw_labels(handle, &labels, labels.count)
        return Array(labels.prefix(found))
    }
}

public struct ANNError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
