import Foundation

/// Caps that keep one request from taking the service down, and knobs of recall.
public struct EngineOptions: Sendable {
    public var maxTopK = 1000
    public var maxBulkItems = 1000
    public var maxPayloadDepth = 32
    public var maxCoordinateDimensions = Coordinate.defaultMaxDimensions
    public var maxListLimit = 1000
    public var maxPathDepth = 16
    /// Vector search asks for `topK * overFetch` candidates, since some are dropped after loading.
    public var overFetch = 3
    /// Reciprocal rank fusion constant: a hit at rank r contributes 1 / (rrfK + r).
    public var rrfK = 60.0
    /// Word search's ranking (`SOMA_BM25_K1`, `SOMA_BM25_B`).
    public var bm25 = BM25.standard
    /// Hybrid recall's fusion and the keyword side's weight in it (`SOMA_HYBRID_FUSION`,
    /// `SOMA_HYBRID_KEYWORD_WEIGHT`); chosen by scripts/bench_retrieval.py, see BENCHMARKS.md.
    public var hybridFusion = HybridFusion.weighted
    public var hybridKeywordWeight = 0.5
    /// Embed and index before answering a store (`VECTOR_INDEX_ASYNC=false`), so recall right after finds it.
    public var indexSynchronously = true
    public var cacheTTL: Duration = .seconds(300)
    /// Payload fields whose values are embedded; empty means every string value.
    public var embedFields: [String] = []
    /// The chosen backend of each capability, named in the log line of a backend's failure.
    public var backendNames: [Capability: String] = [:]

    public init() {}
}
