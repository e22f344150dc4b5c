import COpenBLAS
import Foundation
import SomaEncoderKernels

/// The BERT forward pass of sentence-transformers' mean-pooled, normalised embeddings.
///
/// A batch's texts are packed one after another, unpadded: no token attends to another text's and
/// there is no padding to mask or to pool. Each layer is two parallel phases over a `WorkerTeam`:
/// attention, split by (text, head), as products on strided views of the fused query-key-value
/// output (no per-head copies); then everything row-local, split by rows: the attention output
/// product, bias, residual and LayerNorm, the feed-forward products with bias and GELU applied to
/// each product's output while it is in cache, and the next layer's query-key-value product.
/// OpenBLAS runs single-threaded inside each member. Buffers are allocated once for
/// `tokenCapacity` tokens; the layer loop allocates nothing. One caller at a time.
///
/// The four products of a layer run in the chosen precision (`EncoderPrecision`): fp32 on weights
/// packed here at load for the AVX-512 kernel (OpenBLAS on the weights in place without AVX-512),
/// or int8 on weights quantised here at load and activations quantised per token before each product.
final class BertEncoder {
    /// A layer's four products.
    private struct LayerProducts {
        let queryKeyValue: Linear
        let attentionOutput: Linear
        let intermediate: Linear
        let output: Linear
    }

    let weights: BertWeights
    let precision: EncoderPrecision
    /// The AVX-512 kernels run (the CPU has them and the settings allow them); else OpenBLAS and the Swift loops.
    let vectorised: Bool
    let tokenCapacity: Int
    let maxSequence: Int
    private let configuration: BertConfiguration
    private let team: WorkerTeam
    private let hidden: UnsafeMutablePointer<Float>
    private let queryKeyValue: UnsafeMutablePointer<Float>
    private let context: UnsafeMutablePointer<Float>
    private let projected: UnsafeMutablePointer<Float>
    private let intermediate: UnsafeMutablePointer<Float>
    /// One attention-score matrix per team member.
    private let scores: UnsafeMutablePointer<Float>
    private let products: [LayerProducts]
    /// The int8 path's quantised activations (nil on fp32).
    private let quantized: QuantizedRows?

    /// `precision` and `vectorised` are what runs: the caller has checked that the CPU supports them.
    init(
        weights: BertWeights, tokenCapacity: Int, maxSequence: Int, threads: Int, precision: EncoderPrecision = .fp32,
        vectorised: Bool = Kernels.vectorised
    ) {
        precondition(maxSequence <= tokenCapacity && maxSequence <= weights.configuration.maxPositions)
        precondition(precision == .fp32 || (EncoderPrecision.int8Supported && vectorised))
        precondition(!vectorised || Kernels.vectorised)
        self.weights = weights
        self.precision = precision
        self.vectorised = vectorised
        self.configuration = weights.configuration
        self.tokenCapacity = tokenCapacity
        self.maxSequence = maxSequence
        openblas_set_num_threads(1)
        team = WorkerTeam(size: threads, name: "soma-embedder")
        let width = configuration.hidden
        hidden = .allocate(capacity: tokenCapacity * width)
        queryKeyValue = .allocate(capacity: tokenCapacity * 3 * width)
        context = .allocate(capacity: tokenCapacity * width)
        projected = .allocate(capacity: tokenCapacity * width)
        intermediate = .allocate(capacity: tokenCapacity * configuration.intermediate)
        scores = .allocate(capacity: team.size * maxSequence * maxSequence)
        let inner = configuration.intermediate
        products = weights.layers.map { layer in
            LayerProducts(
                queryKeyValue: Linear(
                    layer.queryKeyValue.baseAddress!, outputs: 3 * width, inner: width, precision: precision, vectorised: vectorised),
                attentionOutput: Linear(
                    layer.attentionOutput.baseAddress!, outputs: width, inner: width, precision: precision, vectorised: vectorised),
                intermediate: Linear(layer.intermediate.baseAddress!, outputs: inner, inner: width, precision: precision, vectorised: vectorised),
                output: Linear(layer.output.baseAddress!, outputs: width, inner: inner, precision: precision, vectorised: vectorised))
        }
        quantized = precision == .int8 ? QuantizedRows(tokenCapacity: tokenCapacity, widest: max(width, inner)) : nil
    }

    /// Ends the worker threads and waits for them (the encoder is not used afterwards).
    func stopWorkers() {
        team.stopAndJoin()
    }

    deinit {
        team.stop()
        for buffer in [hidden, queryKeyValue, context, projected, intermediate, scores] { buffer.deallocate() }
    }

    /// One unit vector per sequence of token ids. The sequences' total length must fit `tokenCapacity`,
    /// each at most `maxSequence` long.
    func embed(_ sequences: [[Int32]]) -> [[Float]] {
        precondition(sequences.allSatisfy { (1...maxSequence).contains($0.count) })
        let ids = sequences.flatMap { $0 }
        let positions = sequences.flatMap { 0..<$0.count }
        let tokens = ids.count
        precondition(tokens <= tokenCapacity)
        var offsets: [Int] = []
        var offset = 0
        for sequence in sequences {
            offsets.append(offset)
            offset += sequence.count
        }
        // A few tokens (a query) are a product's narrow side: split by rows, every member would
        // stream all of the weights; split by output columns, each streams its share.
        if tokens < 32 * team.size {
            embedNarrow(sequences, ids: ids, positions: positions, offsets: offsets)
            return zip(offsets, sequences).map { pooled(from: $0, count: $1.count) }
        }
        let layers = weights.layers
        team.run { member in
            let rows = team.share(member, of: tokens)
            embedTokens(rows, ids: ids, positions: positions)
            projectQueryKeyValue(rows, layers[0], products[0])
        }
        for (index, layer) in layers.enumerated() {
            attention(sequences, offsets: offsets)
            team.run { member in
                let rows = team.share(member, of: tokens)
                finish(layer, products[index], rows: rows)
                if index + 1 < layers.count { projectQueryKeyValue(rows, layers[index + 1], products[index + 1]) }
            }
        }
        return zip(offsets, sequences).map { pooled(from: $0, count: $1.count) }
    }

    /// The layers of a pass over few tokens, each product split by output columns (in multiples of 16,
    /// the kernels' width; computed in blocks small enough for OpenBLAS's unpacked small-matrix
    /// kernel, which measured about a fifth faster on queries) and the row-wise passes on the calling thread.
    private func embedNarrow(_ sequences: [[Int32]], ids: [Int32], positions: [Int], offsets: [Int]) {
        let tokens = ids.count
        let width = configuration.hidden
        let inner = configuration.intermediate
        let epsilon = configuration.layerNormEpsilon
        embedTokens(0..<tokens, ids: ids, positions: positions)
        let block = 64
        func columns(_ member: Int, of outputs: Int) -> Range<Int> {
            let blocks = team.share(member, of: outputs / 16)
            return (blocks.lowerBound * 16)..<(member == team.size - 1 ? outputs : blocks.upperBound * 16)
        }
        let all = 0..<tokens
        for (layer, linear) in zip(weights.layers, products) {
            quantized?.quantize(hidden, rows: all, inner: width)
            team.run { member in
                let share = columns(member, of: 3 * width)
                apply(linear.queryKeyValue, hidden, rows: all, columns: share, into: queryKeyValue, block: block, prequantized: true)
                Kernels.addBias(
                    queryKeyValue + share.lowerBound, rows: tokens, width: share.count, layer.queryKeyValueBias.baseAddress! + share.lowerBound,
                    stride: 3 * width)
            }
            attention(sequences, offsets: offsets)
            quantized?.quantize(context, rows: all, inner: width)
            team.run { member in
                apply(
                    linear.attentionOutput, context, rows: all, columns: columns(member, of: width), into: projected, block: block, prequantized: true
                )
            }
            Kernels.addBiasResidualNorm(
                projected, bias: layer.attentionOutputBias.baseAddress!, residual: hidden, rows: tokens, width: width,
                norm: layer.attentionNorm, epsilon: epsilon, vectorised: vectorised)
            quantized?.quantize(hidden, rows: all, inner: width)
            team.run { member in
                let share = columns(member, of: inner)
                apply(linear.intermediate, hidden, rows: all, columns: share, into: intermediate, block: block, prequantized: true)
                Kernels.addBiasGELU(
                    intermediate + share.lowerBound, rows: tokens, width: share.count, bias: layer.intermediateBias.baseAddress! + share.lowerBound,
                    stride: inner, vectorised: vectorised)
            }
            quantized?.quantize(intermediate, rows: all, inner: inner)
            team.run { member in
                apply(
                    linear.output, intermediate, rows: all, columns: columns(member, of: width), into: projected, block: block / 4, prequantized: true
                )
            }
            Kernels.addBiasResidualNorm(
                projected, bias: layer.outputBias.baseAddress!, residual: hidden, rows: tokens, width: width,
                norm: layer.outputNorm, epsilon: epsilon, vectorised: vectorised)
        }
    }

    /// `output[rows, columns] = input[rows] · weights[columns]ᵀ` (by default every column), rows as
    /// wide as the product; `input` and `output` are row 0. fp32 runs on the packed weights, or on
    /// OpenBLAS in blocks of `block` columns (see `Kernels.productInBlocks`); int8 quantises the rows
    /// first unless the caller already has (`prequantized`, for a product team members split by columns).
    private func apply(
        _ linear: Linear, _ input: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>? = nil, into output: UnsafeMutablePointer<Float>,
        block: Int? = nil, prequantized: Bool = false
    ) {
        guard !rows.isEmpty else { return }
        let columns = columns ?? 0..<linear.outputs
        if let matrix = linear.int8, let quantized {
            if !prequantized { quantized.quantize(input, rows: rows, inner: linear.inner) }
            quantized.product(rows: rows, matrix, columns: columns, into: output, stride: linear.outputs)
        } else if let matrix = linear.packed {
            soma_float_product(
                input + rows.lowerBound * linear.inner, Int32(rows.count), Int32(linear.inner), matrix.packed, Int32(columns.lowerBound),
                Int32(columns.count), output + rows.lowerBound * linear.outputs, Int32(linear.outputs))
        } else {
            Kernels.productInBlocks(
                input + rows.lowerBound * linear.inner, rows: rows.count, inner: linear.inner, weights: linear.weights, outputs: columns,
                into: output + rows.lowerBound * linear.outputs, stride: linear.outputs, block: block ?? columns.count)
        }
    }

    /// Every head of every text, shared among the team.
    private func attention(_ sequences: [[Int32]], offsets: [Int]) {
        let heads = configuration.heads
        team.run { member in
            let scratch = scores + member * maxSequence * maxSequence
            for pair in Swift.stride(from: member, to: sequences.count * heads, by: team.size) {
                let text = pair / heads
                attend(offset: offsets[text], length: sequences[text].count, head: pair % heads, scratch: scratch)
            }
        }
    }

    /// Word + position + token-type embeddings, then LayerNorm.
    private func embedTokens(_ rows: Range<Int>, ids: [Int32], positions: [Int]) {
        let width = configuration.hidden
        let words = weights.words.baseAddress!
        let places = weights.positions.baseAddress!
        let tokenType = weights.tokenTypes.baseAddress!
        for row in rows {
            let line = hidden + row * width
            let word = words + Int(ids[row]) * width
            let place = places + positions[row] * width
            for column in 0..<width { line[column] = word[column] + place[column] + tokenType[column] }
            Kernels.layerNorm(line, width: width, weights.embeddingNorm, epsilon: configuration.layerNormEpsilon)
        }
    }

    private func projectQueryKeyValue(_ rows: Range<Int>, _ layer: BertWeights.Layer, _ linear: LayerProducts) {
        guard !rows.isEmpty else { return }
        let width = configuration.hidden
        apply(linear.queryKeyValue, hidden, rows: rows, into: queryKeyValue)
        Kernels.addBias(queryKeyValue + rows.lowerBound * 3 * width, rows: rows.count, width: 3 * width, layer.queryKeyValueBias.baseAddress!)
    }

    /// One head of one text: softmax(Q·Kᵀ/√d)·V into the head's columns of `context`.
    private func attend(offset: Int, length: Int, head: Int, scratch: UnsafeMutablePointer<Float>) {
        let width = configuration.hidden
        let stride = Int32(3 * width)
        let headSize = configuration.headSize
        let query = queryKeyValue + offset * 3 * width + head * headSize
        let key = query + width
        let value = key + width
        let n = Int32(length)
        let scale = 1 / Float(headSize).squareRoot()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, Int32(headSize), scale, query, stride, key, stride, 0, scratch, n)
        Kernels.softmax(scratch, rows: length, count: length, vectorised: vectorised)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, n, Int32(headSize), n, 1, scratch, n, value, stride, 0,
            context + offset * width + head * headSize, Int32(width))
    }

    /// The rest of a layer for some rows: attention output with residual and LayerNorm, then the feed-forward block.
    private func finish(_ layer: BertWeights.Layer, _ linear: LayerProducts, rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        let width = configuration.hidden
        let inner = configuration.intermediate
        let epsilon = configuration.layerNormEpsilon
        let states = hidden + rows.lowerBound * width
        let scratch = projected + rows.lowerBound * width
        let expanded = intermediate + rows.lowerBound * inner
        apply(linear.attentionOutput, context, rows: rows, into: projected)
        Kernels.addBiasResidualNorm(
            scratch, bias: layer.attentionOutputBias.baseAddress!, residual: states, rows: rows.count, width: width,
            norm: layer.attentionNorm, epsilon: epsilon, vectorised: vectorised)
        apply(linear.intermediate, hidden, rows: rows, into: intermediate)
        Kernels.addBiasGELU(expanded, rows: rows.count, width: inner, bias: layer.intermediateBias.baseAddress!, vectorised: vectorised)
        apply(linear.output, intermediate, rows: rows, into: projected)
        Kernels.addBiasResidualNorm(
            scratch, bias: layer.outputBias.baseAddress!, residual: states, rows: rows.count, width: width,
            norm: layer.outputNorm, epsilon: epsilon, vectorised: vectorised)
    }

    /// Mean of a sequence's final hidden states, scaled to unit length.
    private func pooled(from offset: Int, count: Int) -> [Float] {
        let width = configuration.hidden
        var sum = [Float](repeating: 0, count: width)
        for row in offset..<(offset + count) {
            let values = hidden + row * width
            for column in 0..<width { sum[column] += values[column] }
        }
        let norm = sum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // Mean then normalise equals normalising the sum; a zero vector stays zero.
        return norm > 0 ? sum.map { $0 / norm } : sum
    }
}
