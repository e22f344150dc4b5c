import Foundation
import SomaCore

/// sentence-transformers' all-MiniLM-L6-v2, run in process: 384-dimensional unit vectors of
/// meaning, from the published weights, with no server and no network.
///
/// Stores share forward passes: texts queue while a pass runs, and the next pass takes up to
/// `batchSize` of them, so a lone store starts at once and concurrent ones travel together.
/// A recall's query does not queue behind them.
public final class MiniLMEmbedder: Embedder {
    public static let modelName = "all-MiniLM-L6-v2"
    public let dimension: Int
    public let modelID = MiniLMEmbedder.modelName
    /// The precision the products run in: the one asked for, unless this CPU cannot run it.
    public let precision: EncoderPrecision
    /// Why the precision asked for is not the one that runs (nil when it is).
    public let precisionFallback: String?
    private let thread: EncoderThread
    private let tokenizer: WordPieceTokenizer
    private let queue: EmbeddingQueue

    public struct Settings: Sendable {
        public var directory = ModelDirectory.defaultPath
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public var batchSize = 32
        /// Tokens in one forward pass: the buffers are sized for it, and a query waits at most one such pass.
        public var tokenCapacity = 1024
        public var precision = EncoderPrecision.fp32
        /// OpenBLAS and the Swift loops only, as on a CPU without AVX-512 (int8 then falls back to fp32).
        public var portableKernels = false

        public init() {}
    }

    /// Loads and verifies the model files; fails naming the file and what is wrong with it.
    public init(_ settings: Settings) throws {
        let directory = try ModelDirectory(settings.directory)
        let tokenizer = try WordPieceTokenizer(contentsOf: directory.tokenizer, maxLength: directory.maxSequenceLength)
        let weights = try BertWeights(try directory.verifiedWeights(), directory.configuration)
        dimension = directory.configuration.hidden
        (precision, precisionFallback) = Self.precision(for: settings)
        let encoder = BertEncoder(
            weights: weights, tokenCapacity: max(settings.tokenCapacity, directory.maxSequenceLength), maxSequence: directory.maxSequenceLength,
            threads: settings.threads, precision: precision, vectorised: Self.vectorised(settings))
        self.tokenizer = tokenizer
        let thread = EncoderThread(tokenizer: tokenizer, encoder: encoder)
        self.thread = thread
        queue = EmbeddingQueue(slots: 1, batchSize: settings.batchSize) { texts in try await thread.embed(texts, query: false) }
    }

    /// The precision that runs for these settings, and why it is not the one asked for.
    public static func precision(for settings: Settings) -> (EncoderPrecision, fallback: String?) {
        guard settings.precision == .int8, settings.portableKernels || !EncoderPrecision.int8Supported else { return (settings.precision, nil) }
        let reason =
            settings.portableKernels
            ? "int8 products run on AVX-512 VNNI kernels, which \(MiniLMBackends.portableKernels.name) turns off"
            : "int8 products need AVX-512 VNNI, which this CPU lacks"
        return (.fp32, "\(reason): the embedder runs in fp32")
    }

    /// Whether the AVX-512 kernels run: the CPU has them and the settings allow them.
    static func vectorised(_ settings: Settings) -> Bool { Kernels.vectorised && !settings.portableKernels }

    /// What the products run on, for the start-up line: "int8 products on AVX-512 VNNI" and the like.
    public static func kernels(for settings: Settings) -> String {
        let precision = precision(for: settings).0
        let instructions = precision == .int8 ? "AVX-512 VNNI" : vectorised(settings) ? "AVX-512" : "OpenBLAS"
        return "\(precision) products on \(instructions)"
    }

    deinit {
        thread.stop()
    }

    /// Ends the model's threads; what `soma` runs at shutdown, after the server has drained.
    public func stop() async {
        await thread.stopAndWait()
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        try await queue.embed(texts)
    }

    /// Token ids of a text, `[CLS]` and `[SEP]` included (for benchmarks and diagnostics).
    public func tokenCount(_ text: String) -> Int {
        tokenizer.encode(text).count
    }

    /// The model's thread is running and taking work.
    public func isHealthy() async -> Bool {
        thread.isRunning
    }

    /// Forward passes of stores and batches so far.
    var passes: Int { thread.passes.load(ordering: .relaxed) }

    public func embedQuery(_ text: String) async throws -> [Float] {
        try await thread.embed([text], query: true)[0]
    }
}
