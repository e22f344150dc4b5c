import SomaEncoderKernels
import Testing

@testable import SomaMiniLM

/// The AVX-512 element-wise kernels against the portable Swift loops they replace, on widths that
/// end part-way through a 16-lane vector.
@Suite(.enabled(if: Kernels.vectorised, "the AVX-512 kernels need AVX-512 F; without it the Swift loops run and are the reference"))
struct KernelTests {
    /// Seeded values in [-scale, scale].
    func values(_ count: Int, seed: UInt64, scale: Float) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    func expectClose(_ fast: [Float], _ portable: [Float], within tolerance: Float, _ what: String) {
        let worst = zip(fast, portable).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): largest difference \(worst)")
    }

    @Test(arguments: [1, 7, 16, 17, 33, 192, 256])
    func softmaxMatchesTheLoop(count: Int) {
        // Scores as attention makes them, and a row with one score far above the rest (exp underflows to 0).
        var fast = values(3 * count, seed: UInt64(count), scale: 12)
        fast[count] = 150
        var portable = fast
        fast.withUnsafeMutableBufferPointer { Kernels.softmax($0.baseAddress!, rows: 3, count: count, vectorised: true) }
        portable.withUnsafeMutableBufferPointer { Kernels.softmax($0.baseAddress!, rows: 3, count: count, vectorised: false) }
        expectClose(fast, portable, within: 1e-6, "softmax of \(count)")
        for row in 0..<3 { #expect(abs(fast[(row * count)..<((row + 1) * count)].reduce(0, +) - 1) < 1e-5) }
    }

    @Test(arguments: [16, 37, 1536])
    func biasGELUMatchesTheLoop(width: Int) {
        let bias = values(width, seed: 9, scale: 1)
        var fast = values(4 * (width + 3), seed: 3, scale: 6)
        var portable = fast
        bias.withUnsafeBufferPointer { bias in
            fast.withUnsafeMutableBufferPointer {
                Kernels.addBiasGELU($0.baseAddress!, rows: 4, width: width, bias: bias.baseAddress!, stride: width + 3, vectorised: true)
            }
            portable.withUnsafeMutableBufferPointer {
                Kernels.addBiasGELU($0.baseAddress!, rows: 4, width: width, bias: bias.baseAddress!, stride: width + 3, vectorised: false)
            }
        }
        expectClose(fast, portable, within: 1e-6, "GELU of \(width)")
    }

    @Test(arguments: [16, 45, 384])
    func residualLayerNormMatchesTheLoop(width: Int) {
        let product = values(5 * width, seed: 4, scale: 3)
        let bias = values(width, seed: 5, scale: 0.5)
        let weight = values(width, seed: 6, scale: 2)
        let shift = values(width, seed: 7, scale: 0.3)
        var fast = values(5 * width, seed: 8, scale: 4)
        var portable = fast
        weight.withUnsafeBufferPointer { weight in
            shift.withUnsafeBufferPointer { shift in
                let norm = BertWeights.Norm(weight: weight, bias: shift)
                fast.withUnsafeMutableBufferPointer {
                    Kernels.addBiasResidualNorm(
                        product, bias: bias, residual: $0.baseAddress!, rows: 5, width: width, norm: norm, epsilon: 1e-12, vectorised: true)
                }
                portable.withUnsafeMutableBufferPointer {
                    Kernels.addBiasResidualNorm(
                        product, bias: bias, residual: $0.baseAddress!, rows: 5, width: width, norm: norm, epsilon: 1e-12, vectorised: false)
                }
            }
        }
        expectClose(fast, portable, within: 2e-5, "LayerNorm of \(width)")
    }

    /// The packed AVX-512 product against OpenBLAS's, on row counts that leave partial tiles and on
    /// a column range that starts inside the matrix and ends on a 16-wide block.
    @Test(arguments: [1, 5, 6, 13, 97, 200])
    func packedProductMatchesOpenBLAS(rows: Int) {
        let (outputs, inner) = (80, 72)
        let input = values(rows * inner, seed: 11, scale: 2)
        let weights = values(outputs * inner, seed: 12, scale: 0.2)
        let packed = PackedFloatMatrix(weights, outputs: outputs, inner: inner)
        var fast = [Float](repeating: -1, count: rows * outputs)
        var portable = fast
        let columns = 16..<80
        fast.withUnsafeMutableBufferPointer {
            soma_float_product(
                input, Int32(rows), Int32(inner), packed.packed, Int32(columns.lowerBound), Int32(columns.count), $0.baseAddress!, Int32(outputs))
        }
        portable.withUnsafeMutableBufferPointer {
            Kernels.productInBlocks(
                input, rows: rows, inner: inner, weights: weights, outputs: columns, into: $0.baseAddress!, stride: outputs, block: 64)
        }
        expectClose(fast, portable, within: 1e-5, "\(rows) rows")
        // Columns outside the range are not written.
        #expect((0..<rows).allSatisfy { row in fast[(row * outputs)..<(row * outputs + 16)].allSatisfy { $0 == -1 } })
    }
}
