/// Turns texts into vectors of a fixed dimension.
public protocol Embedder: Sendable {
    var dimension: Int { get }
    /// Recorded on every memory, so vectors of two models never mix in one index.
    var modelID: String { get }
    func embed(_ texts: [String]) async throws -> [[Float]]
    /// A recall's query: an embedder that batches may serve it ahead of queued stores.
    func embedQuery(_ text: String) async throws -> [Float]
    /// Whether it can embed now, without embedding anything: `/healthz`'s `prediction_provider`.
    func isHealthy() async -> Bool
}

extension Embedder {
    /// Pure computations (the hash embedder) are always able to embed; an HTTP embedder's outage
    /// shows where it matters, as 503 on recall, rather than through a probe that would cost a request.
    public func isHealthy() async -> Bool { true }

    public func embedQuery(_ text: String) async throws -> [Float] {
        guard let vector = try await embed([text]).first else { throw EmbedderAnswerError.noVector }
        return vector
    }
}

public enum EmbedderAnswerError: Error, CustomStringConvertible {
    case noVector
    public var description: String { "the embedder returned no vector" }
}
