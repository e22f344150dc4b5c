/// Deterministic feature hashing: each lower-cased word and each character trigram of a word
/// (with `^`/`$` boundary marks) adds a signed weight to one of `dimension` buckets, and the
/// result is L2-normalised. Matches shared words and word fragments, not meaning. No network,
/// no model files, the same vector in every process (FNV-1a, not Swift's seeded `Hasher`).
public struct HashEmbedder: Embedder {
    public static let defaultDimension = 384
    public let dimension: Int
    public var modelID: String { "hash-v1-\(dimension)" }

    public init(dimension: Int = HashEmbedder.defaultDimension) {
        precondition(dimension > 0, "dimension must be positive")
        self.dimension = dimension
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        texts.map(vector(for:))
    }

    public func vector(for text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: dimension)
        for word in Self.words(in: text) {
            add(word, weight: 1.0, to: &vector)
            let marked = Array("^" + word + "$")
            if marked.count > 3 {
                for start in 0...(marked.count - 3) {
                    add(String(marked[start..<start + 3]), weight: 0.5, to: &vector)
                }
            }
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return vector }
        return vector.map { $0 / norm }
    }

    static func words(in text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
    }

    private func add(_ feature: String, weight: Float, to vector: inout [Float]) {
        let hash = Self.fnv1a(feature)
        let bucket = Int(hash % UInt64(dimension))
        let sign: Float = (hash >> 63) == 0 ? 1 : -1
        vector[bucket] += sign * weight
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
