// Needs the MiniLM trait (Package.swift).
#if MiniLM
import ArgumentParser
import Foundation
import SomaMiniLM

/// Measures the in-process all-MiniLM-L6-v2 embedder: texts per second at batch 1 and batch 32 on
/// short and long texts, a query's latency, and the machine's sgemm rate on the encoder's shapes in
/// the same run. Driven by scripts/bench_minilm.sh, which adds the numpy reference on the same texts.
struct EmbedderBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embedder-bench", abstract: "Benchmark the in-process embedder (see scripts/bench_minilm.sh).", shouldDisplay: false)

    @Option(help: "The model directory.") var modelDir = MiniLMBackends.defaultModelDirectory
    @Option var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Seconds per measurement.") var seconds = 5.0
    @Option(help: "Write the benchmark's texts here (JSON: {short: [...], long: [...]}).") var texts: String?
    @Option(help: "fp32 or int8.") var precision = EncoderPrecision.fp32
    @Flag(inversion: .prefixedNo, help: "Measure the machine's sgemm rate too.") var sgemm = true

    /// About 15 tokens each.
    static func shortTexts(_ count: Int) -> [String] {
        let topics = ["falcon launch", "budget review", "customer call", "release plan", "team offsite", "agent memory"]
        return (0..<count).map { "Memory \($0): the \(topics[$0 % topics.count]) moved to Friday after the weather review." }
    }

    /// About 200 tokens each.
    static func longTexts(_ count: Int) -> [String] {
        shortTexts(count * 13).chunks(of: 13).map { $0.joined(separator: " ") }
    }

    func run() async throws {
        var settings = MiniLMEmbedder.Settings()
        settings.directory = modelDir
        settings.threads = threads
        settings.precision = precision
        let embedder = try MiniLMEmbedder(settings)
        if let fallback = embedder.precisionFallback { throw ValidationError(fallback) }
        let short = Self.shortTexts(512)
        let long = Self.longTexts(64)
        if let texts {
            try JSONSerialization.data(withJSONObject: ["short": short, "long": long]).write(to: URL(fileURLWithPath: texts))
        }
        let shortTokens = Double(short.map(embedder.tokenCount).reduce(0, +)) / Double(short.count)
        let longTokens = Double(long.map(embedder.tokenCount).reduce(0, +)) / Double(long.count)
        var report: [String: Any] = [
            "precision": embedder.precision.rawValue, "threads": threads, "short_tokens": shortTokens, "long_tokens": longTokens,
        ]
        for (name, set) in [("short", short), ("long", long)] {
            for batch in [1, 32] {
                report["\(name)_batch\(batch)_texts_per_second"] = try await rate(embedder, set, batch: batch)
            }
        }
        var latencies: [Double] = []
        let clock = ContinuousClock()
        for text in short.prefix(500) {
            let started = clock.now
            _ = try await embedder.embedQuery(text)
            latencies.append(ANNBench.seconds(started.duration(to: clock.now)) * 1000)
        }
        latencies.sort()
        report["query_p50_ms"] = latencies[latencies.count / 2]
        report["query_p99_ms"] = latencies[latencies.count * 99 / 100]
        if sgemm { addSgemmRate(to: &report, shortTokens: shortTokens) }
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: json, as: UTF8.self))
    }

    /// The machine's sgemm rate on the encoder's shapes, and the share of it the encoder reaches.
    private func addSgemmRate(to report: inout [String: Any], shortTokens: Double) {
        let batchTokens = Int((shortTokens * 32).rounded())
        let rate = SgemmRate.gigaflops(tokens: batchTokens, threads: threads, seconds: seconds)
        report["sgemm_gflops"] = rate
        // 21.2 MFLOP per token: 6 layers of 2·384·(3·384 + 384 + 2·1536) multiply-adds.
        let multiplyAdds: Double = 384 * (3 * 384 + 384 + 2 * 1536)
        let flopsPerToken: Double = 6 * 2 * multiplyAdds
        let encoderRate = (report["short_batch32_texts_per_second"] as? Double ?? 0) * shortTokens * flopsPerToken / 1e9
        report["encoder_gflops_short_batch32"] = encoderRate
        report["share_of_sgemm_short_batch32"] = encoderRate / rate
    }

    /// Texts per second, embedding `set` in calls of `batch` texts, repeated for `seconds`.
    private func rate(_ embedder: MiniLMEmbedder, _ set: [String], batch: Int) async throws -> Double {
        let clock = ContinuousClock()
        _ = try await embedder.embed(Array(set.prefix(batch)))
        let started = clock.now
        var done = 0
        var elapsed = 0.0
        while elapsed < seconds {
            let start = (done % set.count) / batch * batch
            let texts = Array(set[start..<min(start + batch, set.count)])
            _ = try await embedder.embed(texts)
            done += texts.count
            elapsed = ANNBench.seconds(started.duration(to: clock.now))
        }
        return Double(done) / elapsed
    }
}

extension EncoderPrecision: ExpressibleByArgument {}

extension Array {
    func chunks(of size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
#endif
