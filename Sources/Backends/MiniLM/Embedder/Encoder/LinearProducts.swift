import SomaCore
import SomaEncoderKernels

/// The arithmetic the encoder's matrix products run in (`SOMA_EMBEDDER_PRECISION`).
public enum EncoderPrecision: String, SettingChoice, Sendable {
    /// 32-bit floats through OpenBLAS: the reference.
    case fp32
    /// Weights in 8 bits per output channel, activations in 8 bits per token, on AVX-512 VNNI;
    /// LayerNorm, softmax, GELU and attention stay in fp32.
    case int8

    /// Whether this CPU has the int8 products' instructions.
    static var int8Supported: Bool { soma_int8_supported() != 0 }
}

/// A linear layer's weights quantised at load: int8 per output channel, packed for `vpdpbusd`.
final class Int8Matrix: @unchecked Sendable {
    let outputs: Int
    let inner: Int
    let packed: UnsafeMutablePointer<Int8>
    let scales: UnsafeMutablePointer<Float>
    let sums: UnsafeMutablePointer<Int32>

    /// `weights` is [outputs, inner] as PyTorch keeps it; outputs a multiple of 16, inner of 4.
    init(_ weights: UnsafePointer<Float>, outputs: Int, inner: Int) {
        precondition(outputs % 16 == 0 && inner % 4 == 0)
        self.outputs = outputs
        self.inner = inner
        packed = .allocate(capacity: soma_int8_packed_size(Int32(outputs), Int32(inner)))
        scales = .allocate(capacity: outputs)
        sums = .allocate(capacity: outputs)
        soma_int8_pack(weights, Int32(outputs), Int32(inner), packed, scales, sums)
    }

    deinit {
        packed.deallocate()
        scales.deallocate()
        sums.deallocate()
    }
}

/// A linear layer's fp32 weights copied at load into blocks of 16 outputs for the AVX-512 product,
/// which then reads them in order instead of repacking them on every call as OpenBLAS does.
final class PackedFloatMatrix: @unchecked Sendable {
    let packed: UnsafeMutablePointer<Float>

    init(_ weights: UnsafePointer<Float>, outputs: Int, inner: Int) {
        precondition(outputs % 16 == 0)
        packed = .allocate(capacity: soma_float_packed_size(Int32(outputs), Int32(inner)))
        soma_float_pack(weights, Int32(outputs), Int32(inner), packed)
    }

    deinit { packed.deallocate() }
}

/// One product's weights: as the model holds them, and in the form this CPU and precision multiply
/// fastest (int8 on VNNI; fp32 packed on AVX-512 F; else OpenBLAS on the weights as they are).
struct Linear {
    /// [outputs, inner].
    let weights: UnsafePointer<Float>
    let outputs: Int
    let inner: Int
    let int8: Int8Matrix?
    let packed: PackedFloatMatrix?

    /// `vectorised`: the AVX-512 kernels run, so fp32 weights are packed for them.
    init(_ weights: UnsafePointer<Float>, outputs: Int, inner: Int, precision: EncoderPrecision, vectorised: Bool) {
        self.weights = weights
        self.outputs = outputs
        self.inner = inner
        int8 = precision == .int8 ? Int8Matrix(weights, outputs: outputs, inner: inner) : nil
        packed = precision == .fp32 && vectorised ? PackedFloatMatrix(weights, outputs: outputs, inner: inner) : nil
    }
}

/// Activations quantised per token for the int8 products: a row of bytes, a step and a zero point
/// per token. Rows sit `rowBytes` apart whatever the product's width, so team members that work on
/// their own rows never share bytes, even when one is a product ahead of another.
final class QuantizedRows {
    private let rowBytes: Int
    private let bytes: UnsafeMutablePointer<UInt8>
    private let steps: UnsafeMutablePointer<Float>
    private let zeros: UnsafeMutablePointer<Int32>

    init(tokenCapacity: Int, widest: Int) {
        rowBytes = widest
        bytes = .allocate(capacity: tokenCapacity * widest)
        steps = .allocate(capacity: tokenCapacity)
        zeros = .allocate(capacity: tokenCapacity)
    }

    deinit {
        bytes.deallocate()
        steps.deallocate()
        zeros.deallocate()
    }

    /// Quantises `rows` of `input` (rows `inner` floats apart, from row 0).
    func quantize(_ input: UnsafePointer<Float>, rows: Range<Int>, inner: Int) {
        guard !rows.isEmpty else { return }
        soma_int8_quantize_rows(
            input + rows.lowerBound * inner, Int32(rows.count), Int32(inner), Int32(inner), bytes + rows.lowerBound * rowBytes,
            Int32(rowBytes), steps + rows.lowerBound, zeros + rows.lowerBound)
    }

    /// `output[rows, columns] = rows · matrix[columns]ᵀ` on quantised rows; `output` is row 0, column 0.
    func product(
        rows: Range<Int>, _ matrix: Int8Matrix, columns: Range<Int>, into output: UnsafeMutablePointer<Float>, stride: Int
    ) {
        guard !rows.isEmpty, !columns.isEmpty else { return }
        soma_int8_product(
            bytes + rows.lowerBound * rowBytes, Int32(rowBytes), steps + rows.lowerBound, zeros + rows.lowerBound, Int32(rows.count),
            Int32(matrix.inner), matrix.packed, matrix.scales, matrix.sums, Int32(columns.lowerBound), Int32(columns.count),
            output + rows.lowerBound * stride, Int32(stride))
    }
}
