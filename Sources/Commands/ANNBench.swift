import ArgumentParser
import Foundation
import SomaANN
import SomaCore

/// Measures the approximate index on vectors from files (raw little-endian float32), so the same
/// vectors can be given to another implementation. Driven by scripts/ann_bench.py.
struct ANNBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann-bench", abstract: "Benchmark the ANN index (see scripts/ann_bench.py).", shouldDisplay: false)

    @Option var vectors: String
    @Option var queries: String
    @Option var dimension = 384
    @Option var m = ANNParameters().m
    @Option(name: .customLong("ef-construction")) var efConstruction = ANNParameters().efConstruction
    @Option var ef = ANNParameters().efSearch
    @Option var k = 10
    @Option(help: "Write the result labels (int32, k per query) here.") var results: String?
    @Flag(help: "Also time exact against graph search at growing sizes.") var crossover = false

    func run() async throws {
        let data = try Self.read(vectors, dimension: dimension)
        let probes = try Self.read(queries, dimension: dimension)
        var parameters = ANNParameters()
        parameters.m = m
        parameters.efConstruction = efConstruction
        parameters.efSearch = ef
        parameters.exactThreshold = 0
        let (index, buildSeconds) = try await Self.build(data, parameters: parameters, dimension: dimension)
        var latencies: [Double] = []
        var found: [Int32] = []
        let clock = ContinuousClock()
        let started = clock.now
        for query in probes {
            let before = clock.now
            let hits = try index.search(VectorQuery(vector: query, namespace: "bench", limit: k))
            latencies.append(Self.seconds(before.duration(to: clock.now)))
            let labels = hits.map { Int32(Self.label(of: $0.id)) }
            found += labels + Array(repeating: -1, count: k - labels.count)
        }
        let total = Self.seconds(started.duration(to: clock.now))
        if let results {
            try found.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: results))
        }
        latencies.sort()
        var report: [String: Any] = [
            "vectors": data.count, "queries": probes.count, "build_seconds": buildSeconds, "qps": Double(probes.count) / total,
            "p50_ms": latencies[latencies.count / 2] * 1000, "p99_ms": latencies[min(latencies.count - 1, latencies.count * 99 / 100)] * 1000,
        ]
        if crossover { report["crossover"] = try await Self.crossover(data, probes, parameters: parameters, dimension: dimension, k: k) }
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Query time of exact and graph search at growing sizes: the exact threshold belongs where they cross.
    static func crossover(_ data: [[Float]], _ probes: [[Float]], parameters: ANNParameters, dimension: Int, k: Int) async throws -> [[String:
        Double]]
    {
        var rows: [[String: Double]] = []
        for size in [500, 1000, 2000, 4000, 8000, 16000] where size <= data.count {
            let subset = Array(data.prefix(size))
            var exactParameters = parameters
            exactParameters.exactThreshold = .max
            let (graph, _) = try await build(subset, parameters: parameters, dimension: dimension)
            let (exact, _) = try await build(subset, parameters: exactParameters, dimension: dimension)
            func microseconds(_ index: NearestNeighbourIndex) -> Double {
                let clock = ContinuousClock(), started = clock.now
                for query in probes.prefix(300) { _ = try? index.search(VectorQuery(vector: query, namespace: "bench", limit: k)) }
                return seconds(started.duration(to: clock.now)) / Double(min(300, probes.count)) * 1e6
            }
            rows.append(["size": Double(size), "exact_us": microseconds(exact), "graph_us": microseconds(graph)])
        }
        return rows
    }

    static func build(_ data: [[Float]], parameters: ANNParameters, dimension: Int) async throws -> (NearestNeighbourIndex, Double) {
        let index = NearestNeighbourIndex(dimension: dimension, parameters: parameters)
        let clock = ContinuousClock(), started = clock.now
        for start in stride(from: 0, to: data.count, by: 1000) {
            let chunk = (start..<min(start + 1000, data.count)).map {
                VectorPoint(id: id(for: $0), vector: data[$0], namespace: "bench", type: .episodic, version: 1, payload: [:])
            }
            try index.upsert(chunk, labels: Array(start..<(start + chunk.count)))
        }
        await index.waitForMerge()
        return (index, seconds(started.duration(to: clock.now)))
    }

    /// Row number <-> id, so results can be compared with the ground truth by row.
    static func id(for row: Int) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-4000-8000-%012x", row))!
    }

    static func label(of id: UUID) -> Int {
        Int(id.uuidString.suffix(12), radix: 16)!
    }

    static func read(_ path: String, dimension: Int) throws -> [[Float]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let floats = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        guard floats.count % dimension == 0 else { throw ValidationError("\(path) does not hold \(dimension)-dimensional float32 vectors") }
        return stride(from: 0, to: floats.count, by: dimension).map { Array(floats[$0..<($0 + dimension)]) }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
