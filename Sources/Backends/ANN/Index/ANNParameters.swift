/// Tuning of the approximate index.
public struct ANNParameters: Sendable, Equatable {
    /// Graph degree and build breadth (hnswlib's M and ef_construction).
    public var m = 16
    public var efConstruction = 200
    /// Search breadth; raised to the number of results asked for when that is larger.
    public var efSearch = 64
    /// A namespace with at most this many vectors is searched exactly (measured crossover, see BENCHMARKS.md).
    public var exactThreshold = 4096
    /// Vectors moved from the exact buffer into the graph per step of the background merge.
    public var mergeBatch = 64

    public init() {}
}
