import COpenBLAS
import Foundation

/// The BERT forward pass of sentence-transformers' mean-pooled, normalised embeddings.
///
/// A batch's texts are packed one after another, unpadded: every linear layer is one matrix
/// product over all of the batch's tokens, and attention runs per text and head on strided views of
/// the fused query-key-value output (no copies), so no token attends to another text's and there
/// is no padding to mask or to pool. Biases, GELU, residuals and LayerNorm are single passes over
/// each product's output. Buffers are allocated once for `tokenCapacity` tokens; the layer loop
/// allocates nothing. Not thread-safe: one encoder belongs to one thread.
final class BertEncoder {
    let weights: BertWeights
    let tokenCapacity: Int
    private let configuration: BertConfiguration
    private let hidden: UnsafeMutablePointer<Float>
    private let queryKeyValue: UnsafeMutablePointer<Float>
    private let context: UnsafeMutablePointer<Float>
    private let projected: UnsafeMutablePointer<Float>
    private let intermediate: UnsafeMutablePointer<Float>
    private let scores: UnsafeMutablePointer<Float>
    private let maxSequence: Int

    init(weights: BertWeights, tokenCapacity: Int, maxSequence: Int) {
        precondition(maxSequence <= tokenCapacity && maxSequence <= weights.configuration.maxPositions)
        self.weights = weights
        self.configuration = weights.configuration
        self.tokenCapacity = tokenCapacity
        self.maxSequence = maxSequence
        let width = configuration.hidden
        hidden = .allocate(capacity: tokenCapacity * width)
        queryKeyValue = .allocate(capacity: tokenCapacity * 3 * width)
        context = .allocate(capacity: tokenCapacity * width)
        projected = .allocate(capacity: tokenCapacity * width)
        intermediate = .allocate(capacity: tokenCapacity * configuration.intermediate)
        scores = .allocate(capacity: maxSequence * maxSequence)
    }

    deinit {
        for buffer in [hidden, queryKeyValue, context, projected, intermediate, scores] { buffer.deallocate() }
    }

    /// One unit vector per sequence of token ids. The sequences' total length must fit `tokenCapacity`,
    /// each at most `maxSequence` long.
    func embed(_ sequences: [[Int32]]) -> [[Float]] {
        let lengths = sequences.map(\.count)
        let tokens = lengths.reduce(0, +)
        precondition(tokens <= tokenCapacity && lengths.allSatisfy { (1...maxSequence).contains($0) })
        var offsets: [Int] = []
        var offset = 0
        for length in lengths {
            offsets.append(offset)
            offset += length
        }
        embedTokens(sequences)
        for layer in weights.layers {
            attention(layer, tokens: tokens, offsets: offsets, lengths: lengths)
            feedForward(layer, tokens: tokens)
        }
        return zip(offsets, lengths).map { pooled(from: $0, count: $1) }
    }

    /// Word + position + token-type embeddings, then LayerNorm.
    private func embedTokens(_ sequences: [[Int32]]) {
        let width = configuration.hidden
        let words = weights.words.baseAddress!
        let positions = weights.positions.baseAddress!
        let tokenType = weights.tokenTypes.baseAddress!
        var row = hidden
        for sequence in sequences {
            for (position, id) in sequence.enumerated() {
                let word = words + Int(id) * width
                let place = positions + position * width
                for column in 0..<width { row[column] = word[column] + place[column] + tokenType[column] }
                Kernels.layerNorm(row, width: width, weights.embeddingNorm, epsilon: configuration.layerNormEpsilon)
                row += width
            }
        }
    }

    private func attention(_ layer: BertWeights.Layer, tokens: Int, offsets: [Int], lengths: [Int]) {
        let width = configuration.hidden
        let stride = 3 * width
        let headSize = configuration.headSize
        Kernels.product(hidden, rows: tokens, inner: width, weights: UnsafePointer(layer.queryKeyValue.baseAddress!), outputs: stride, into: queryKeyValue)
        Kernels.addBias(queryKeyValue, rows: tokens, width: stride, UnsafePointer(layer.queryKeyValueBias.baseAddress!))
        let scale = 1 / Float(headSize).squareRoot()
        for (offset, length) in zip(offsets, lengths) {
            let block = queryKeyValue + offset * stride
            for head in 0..<configuration.heads {
                let query = block + head * headSize
                let key = query + width
                let value = key + width
                let n = Int32(length)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, Int32(headSize), scale, query, Int32(stride), key, Int32(stride), 0, scores, n)
                for row in 0..<length { Kernels.softmax(scores + row * length, count: length) }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, Int32(headSize), n, 1, scores, n, value, Int32(stride), 0,
                    context + offset * width + head * headSize, Int32(width))
            }
        }
        Kernels.product(context, rows: tokens, inner: width, weights: layer.attentionOutput.baseAddress!, outputs: width, into: projected)
        Kernels.addBiasResidualNorm(projected, bias: layer.attentionOutputBias.baseAddress!, residual: hidden, rows: tokens, width: width,
            norm: layer.attentionNorm, epsilon: configuration.layerNormEpsilon)
    }

    private func feedForward(_ layer: BertWeights.Layer, tokens: Int) {
        let width = configuration.hidden
        let inner = configuration.intermediate
        Kernels.product(hidden, rows: tokens, inner: width, weights: layer.intermediate.baseAddress!, outputs: inner, into: intermediate)
        Kernels.addBiasGELU(intermediate, rows: tokens, width: inner, bias: layer.intermediateBias.baseAddress!)
        Kernels.product(intermediate, rows: tokens, inner: inner, weights: layer.output.baseAddress!, outputs: width, into: projected)
        Kernels.addBiasResidualNorm(projected, bias: layer.outputBias.baseAddress!, residual: hidden, rows: tokens, width: width,
            norm: layer.outputNorm, epsilon: configuration.layerNormEpsilon)
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
