import ArgumentParser
import Foundation
import SomaCore

/// Throughput of the Redis cache under many concurrent callers (each a task that writes an entry
/// through the ordering script, then reads it back), as the service's requests use it. Driven by
/// scripts/bench_redis.sh; reads REDIS_URL and the other REDIS_* settings from the environment.
struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-bench", abstract: "Benchmark the Redis cache (see scripts/bench_redis.sh).", shouldDisplay: false)

    @Option(help: "Concurrent callers.") var callers = 64
    @Option(help: "Seconds to run.") var seconds = 10
    @Option(help: "Distinct keys.") var keys = 4096

    func run() async throws {
        let (callers, seconds, keys) = (callers, seconds, keys)
        let configuration = BackendConfiguration(ProcessInfo.processInfo.environment)
        let report = try await BackendLifetime.during(logger: .quiet("soma.redis-bench")) { lifetime in
            let cache = try await Backends.registry.makeCache("redis", configuration, in: lifetime)
            let value = [UInt8](repeating: UInt8(ascii: "x"), count: 256)
            let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
            let tallies = await withTaskGroup(of: Tally.self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        var tally = Tally()
                        var order: Int64 = 0
                        while ContinuousClock.now < deadline {
                            let key = "bench:\((caller * 7919 + Int(order)) % keys)"
                            order += 1
                            let started = ContinuousClock.now
                            do {
                                try await cache.put(key, value: value, order: Int64(caller) << 32 | order, ttl: .seconds(60))
                                _ = try await cache.get(key)
                                tally.operations += 2
                            } catch {
                                tally.errors += 1
                            }
                            tally.latencies.append(started.duration(to: .now))
                        }
                        return tally
                    }
                }
                return await group.reduce(into: [Tally]()) { $0.append($1) }
            }
            let latencies = tallies.flatMap(\.latencies).sorted()
            let operations = tallies.reduce(0) { $0 + $1.operations }
            func milliseconds(_ quantile: Double) -> Double {
                guard !latencies.isEmpty else { return 0 }
                let duration = latencies[min(latencies.count - 1, Int(Double(latencies.count) * quantile))]
                return Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000
            }
            return [
                "callers": Double(callers), "seconds": Double(seconds), "operations": Double(operations),
                "operations_per_second": Double(operations) / Double(seconds), "errors": Double(tallies.reduce(0) { $0 + $1.errors }),
                "pair_p50_ms": milliseconds(0.5), "pair_p99_ms": milliseconds(0.99),
            ]
        }
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }

    struct Tally: Sendable {
        var operations = 0
        var errors = 0
        var latencies: [Duration] = []
    }
}
