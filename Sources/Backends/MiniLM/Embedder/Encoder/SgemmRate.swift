import COpenBLAS
import Foundation

/// The machine's sgemm rate on the encoder's own matrix products (query-key-value, attention
/// output, and the two feed-forward products, for `tokens` rows), with OpenBLAS's own `threads`: the
/// ceiling the encoder's throughput is measured against.
public enum SgemmRate {
    public static func gigaflops(tokens: Int, threads: Int, seconds: Double = 2) -> Double {
        let encoderThreads = openblas_get_num_threads()
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(encoderThreads) }
        let width = 384
        let inner = 1536
        let shapes = [(width, 3 * width), (width, width), (width, inner), (inner, width)]  // (inner size, outputs)
        let input = [Float](repeating: 0.01, count: tokens * inner)
        let weights = [Float](repeating: 0.02, count: inner * 3 * width)
        var output = [Float](repeating: 0, count: tokens * inner)
        var flops = 0.0
        let started = ContinuousClock.now
        var elapsed = 0.0
        while elapsed < seconds {
            for (innerSize, outputs) in shapes {
                Kernels.product(input, rows: tokens, inner: innerSize, weights: weights, outputs: outputs, into: &output)
                flops += 2 * Double(tokens * innerSize * outputs)
            }
            let duration = ContinuousClock.now - started
            elapsed = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        return flops / elapsed / 1e9
    }
}
