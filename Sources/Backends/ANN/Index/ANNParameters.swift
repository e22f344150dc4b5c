/// Tuning of the approximate index.
public struct ANNParameters: Sendable, Equatable {
    /// Graph degree and build breadth (hnswlib's M and ef_construction; 16 and 64 are pgvector's
    /// defaults too). Measured (BENCHMARKS.md, 100,000 x 384, ef 64): ef_construction 64 gives
    /// recall@10 0.982 against 0.991 at 100 and 0.993 at 200, and inserts 2.2 and 4 times as fast;
    /// graph insertion is the largest part of a store's CPU and all of the background merge's.
    public var m = 16
    public var efConstruction = 64
    /// Search breadth; raised to the number of results asked for when that is larger.
    public var efSearch = 64
    /// A namespace with at most this many vectors is searched exactly. The graph is faster from 500
    /// vectors on (at 1,000: 110 us against 245 us, BENCHMARKS.md), but a search of breadth 64 can
    /// stop among many near-duplicate memories and miss the one match of a query far from them all
    /// (a test shows it at 301 vectors); an agent with a few hundred memories expects that one, and
    /// the exact search costs it about 0.15 ms more.
    public var exactThreshold = 1024
    /// Vectors moved from the exact buffer into the graph per step of the background merge.
    public var mergeBatch = 64
    /// Above this many buffered vectors, writers help the merge before they return (backpressure).
    public var maxBuffer = 4096
    /// A graph is rebuilt from its live vectors, in the background, once its deleted slots (left by
    /// deletes and updates) outnumber both half its live vectors and this.
    public var compactAfterDeleted = 10_000
    /// Graphs kept in files are saved this often while vectors were merged into them since the last
    /// save (nil: only at a clean stop). After a crash the next start reuses the last saved graph
    /// and merges only what came after it; without one every vector waits in the exact buffer,
    /// which every search scans (about 10 recalls/s at 100,000 until the merge caught up).
    public var saveInterval: Duration? = .seconds(300)
    /// A running merge that has moved nothing for this long is reported stuck by the health probe.
    /// A step is one batch of `mergeBatch` vectors (milliseconds) or, in a rebuild, 256 of them.
    public var mergeStallLimit: Duration = .seconds(60)

    /// How graphs keep their vectors: `half` takes half the memory (768 bytes at 384 dimensions)
    /// and moves similarities by about 1e-4 (measured in the SQLite recall test). Falls back to
    /// `single` on a CPU without the conversion instructions.
    public var graphPrecision = GraphPrecision.single

    public init() {}
}

public enum GraphPrecision: String, Sendable, Equatable {
    case single, half
}
