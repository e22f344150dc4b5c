/// Turns texts into vectors of a fixed dimension.
public protocol Embedder: Sendable {
    var dimension: Int { get }
    /// Recorded on every memory, so vectors of two models never mix in one index.
    var modelID: String { get }
    func embed(_ texts: [String]) async throws -> [[Float]]
}
