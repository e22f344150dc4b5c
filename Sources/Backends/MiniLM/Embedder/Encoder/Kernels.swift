import COpenBLAS
import Foundation
import SomaEncoderKernels

/// The encoder's arithmetic on row-major buffers: matrix products through OpenBLAS, and the
/// element-wise passes that follow them, each one sweep over the product's output. The passes run
/// as AVX-512 C kernels where the CPU has AVX-512 F (`vectorised`, decided once), else as the Swift
/// loops here, which the compiler vectorises only as far as the build's baseline (SSE) allows.
enum Kernels {
    static let vectorised = soma_avx512_supported() != 0

    /// `output[rows, outputs] = input[rows, inner] · weightsᵀ`, with weights stored [outputs, inner] as
    /// PyTorch keeps them; output rows `stride` apart (by default `outputs`, to write some columns of a wider matrix).
    static func product(
        _ input: UnsafePointer<Float>, rows: Int, inner: Int, weights: UnsafePointer<Float>, outputs: Int, into output: UnsafeMutablePointer<Float>,
        stride: Int? = nil
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inner), 1, input, Int32(inner), weights,
            Int32(inner), 0, output, Int32(stride ?? outputs))
    }

    /// The same product in blocks of `block` output columns: few rows by a small block stay under
    /// OpenBLAS's small-matrix threshold, whose kernel reads the weights in place instead of packing them.
    static func productInBlocks(
        _ input: UnsafePointer<Float>, rows: Int, inner: Int, weights: UnsafePointer<Float>, outputs: Range<Int>,
        into output: UnsafeMutablePointer<Float>,
        stride: Int, block: Int
    ) {
        for start in Swift.stride(from: outputs.lowerBound, to: outputs.upperBound, by: block) {
            let count = min(block, outputs.upperBound - start)
            product(input, rows: rows, inner: inner, weights: weights + start * inner, outputs: count, into: output + start, stride: stride)
        }
    }

    static func addBias(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ bias: UnsafePointer<Float>, stride: Int? = nil) {
        for row in 0..<rows {
            let line = values + row * (stride ?? width)
            for column in 0..<width { line[column] += bias[column] }
        }
    }

    /// GELU as BERT defines it, `x·Φ(x)` through the error function (not the tanh approximation),
    /// after the bias. `erf` is a rational function that the compiler vectorises, within 4e-7 of
    /// the true value (glibc's `erff`, called per element, took a tenth of a forward pass).
    static func addBiasGELU(
        _ values: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>, stride: Int? = nil, vectorised: Bool = vectorised
    ) {
        if vectorised { return soma_bias_gelu(values, Int32(rows), Int32(width), bias, Int32(stride ?? width)) }
        let inverseRootTwo: Float = 0.7071067811865476
        for row in 0..<rows {
            let line = values + row * (stride ?? width)
            for column in 0..<width {
                let x = line[column] + bias[column]
                line[column] = 0.5 * x * (1 + erf(x * inverseRootTwo))
            }
        }
    }

    /// Rational approximation of erf on [-4, 4] (outside, erf is ±1 in single precision), as Eigen
    /// computes it for floats: an odd polynomial over an even one.
    @inline(__always)
    static func erf(_ value: Float) -> Float {
        let x = min(max(value, -4), 4)
        let x2 = x * x
        var p: Float = -2.72614225801306e-10
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 - 2.10102402082508e-06
        p = p * x2 - 5.69250639462346e-05
        p = p * x2 - 7.34990630326855e-04
        p = p * x2 - 2.95459980854025e-03
        p = p * x2 - 1.60960333262415e-02
        var q: Float = -1.45660718464996e-05
        q = q * x2 - 2.13374055278905e-04
        q = q * x2 - 1.68282697438203e-03
        q = q * x2 - 7.37332916720468e-03
        q = q * x2 - 1.42647390514189e-02
        return x * p / q
    }

    /// `residual = LayerNorm(values + bias + residual)`, row by row.
    static func addBiasResidualNorm(
        _ values: UnsafePointer<Float>, bias: UnsafePointer<Float>, residual: UnsafeMutablePointer<Float>, rows: Int, width: Int,
        norm: BertWeights.Norm, epsilon: Float, vectorised: Bool = vectorised
    ) {
        if vectorised {
            return soma_bias_residual_norm(
                values, bias, residual, Int32(rows), Int32(width), norm.weight.baseAddress!, norm.bias.baseAddress!, epsilon)
        }
        for row in 0..<rows {
            let line = residual + row * width
            let source = values + row * width
            for column in 0..<width { line[column] += source[column] + bias[column] }
            layerNorm(line, width: width, norm, epsilon: epsilon)
        }
    }

    static func layerNorm(_ line: UnsafeMutablePointer<Float>, width: Int, _ norm: BertWeights.Norm, epsilon: Float) {
        var sum: Float = 0
        for column in 0..<width { sum += line[column] }
        let mean = sum / Float(width)
        var squares: Float = 0
        for column in 0..<width {
            let centred = line[column] - mean
            squares += centred * centred
        }
        let scale = 1 / (squares / Float(width) + epsilon).squareRoot()
        let weight = norm.weight.baseAddress!
        let bias = norm.bias.baseAddress!
        for column in 0..<width { line[column] = (line[column] - mean) * scale * weight[column] + bias[column] }
    }

    /// Each of `rows` rows of `count` contiguous scores becomes its softmax.
    static func softmax(_ scores: UnsafeMutablePointer<Float>, rows: Int, count: Int, vectorised: Bool = vectorised) {
        if vectorised { return soma_softmax_rows(scores, Int32(rows), Int32(count)) }
        for row in 0..<rows { softmax(scores + row * count, count: count) }
    }

    private static func softmax(_ line: UnsafeMutablePointer<Float>, count: Int) {
        var largest = -Float.infinity
        for index in 0..<count { largest = max(largest, line[index]) }
        var sum: Float = 0
        for index in 0..<count {
            let value = expf(line[index] - largest)
            line[index] = value
            sum += value
        }
        let inverse = 1 / sum
        for index in 0..<count { line[index] *= inverse }
    }
}
