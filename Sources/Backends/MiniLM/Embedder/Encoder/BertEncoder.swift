import COpenBLAS
import Foundation

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
final class BertEncoder {
    let weights: BertWeights
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

    init(weights: BertWeights, tokenCapacity: Int, maxSequence: Int, threads: Int) {
        precondition(maxSequence <= tokenCapacity && maxSequence <= weights.configuration.maxPositions)
        self.weights = weights
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
            projectQueryKeyValue(rows, layers[0])
        }
        for (index, layer) in layers.enumerated() {
            attention(sequences, offsets: offsets)
            team.run { member in
                let rows = team.share(member, of: tokens)
                finish(layer, rows: rows)
                if index + 1 < layers.count { projectQueryKeyValue(rows, layers[index + 1]) }
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
        for layer in weights.layers {
            team.run { member in
                let share = columns(member, of: 3 * width)
                Kernels.productInBlocks(
                    hidden, rows: tokens, inner: width, weights: layer.queryKeyValue.baseAddress!, outputs: share,
                    into: queryKeyValue, stride: 3 * width, block: block)
                Kernels.addBias(
                    queryKeyValue + share.lowerBound, rows: tokens, width: share.count, layer.queryKeyValueBias.baseAddress! + share.lowerBound,
                    stride: 3 * width)
            }
            attention(sequences, offsets: offsets)
            team.run { member in
                let share = columns(member, of: width)
                Kernels.productInBlocks(
                    context, rows: tokens, inner: width, weights: layer.attentionOutput.baseAddress!, outputs: share,
                    into: projected, stride: width, block: block)
            }
            Kernels.addBiasResidualNorm(
                projected, bias: layer.attentionOutputBias.baseAddress!, residual: hidden, rows: tokens, width: width,
                norm: layer.attentionNorm, epsilon: epsilon)
            team.run { member in
                let share = columns(member, of: inner)
                Kernels.productInBlocks(
                    hidden, rows: tokens, inner: width, weights: layer.intermediate.baseAddress!, outputs: share,
                    into: intermediate, stride: inner, block: block)
                Kernels.addBiasGELU(
                    intermediate + share.lowerBound, rows: tokens, width: share.count, bias: layer.intermediateBias.baseAddress! + share.lowerBound,
                    stride: inner)
            }
            team.run { member in
                let share = columns(member, of: width)
                Kernels.productInBlocks(
                    intermediate, rows: tokens, inner: inner, weights: layer.output.baseAddress!, outputs: share,
                    into: projected, stride: width, block: block / 4)
            }
            Kernels.addBiasResidualNorm(
                projected, bias: layer.outputBias.baseAddress!, residual: hidden, rows: tokens, width: width,
                norm: layer.outputNorm, epsilon: epsilon)
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

    private func projectQueryKeyValue(_ rows: Range<Int>, _ layer: BertWeights.Layer) {
        guard !rows.isEmpty else { return }
        let width = configuration.hidden
        let output = queryKeyValue + rows.lowerBound * 3 * width
        Kernels.product(
            hidden + rows.lowerBound * width, rows: rows.count, inner: width, weights: layer.queryKeyValue.baseAddress!, outputs: 3 * width,
            into: output)
        Kernels.addBias(output, rows: rows.count, width: 3 * width, layer.queryKeyValueBias.baseAddress!)
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
        for row in 0..<length { Kernels.softmax(scratch + row * length, count: length) }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, n, Int32(headSize), n, 1, scratch, n, value, stride, 0,
            context + offset * width + head * headSize, Int32(width))
    }

    /// The rest of a layer for some rows: attention output with residual and LayerNorm, then the feed-forward block.
    private func finish(_ layer: BertWeights.Layer, rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        let width = configuration.hidden
        let inner = configuration.intermediate
        let epsilon = configuration.layerNormEpsilon
        let states = hidden + rows.lowerBound * width
        let scratch = projected + rows.lowerBound * width
        let expanded = intermediate + rows.lowerBound * inner
        Kernels.product(
            context + rows.lowerBound * width, rows: rows.count, inner: width, weights: layer.attentionOutput.baseAddress!, outputs: width,
            into: scratch)
        Kernels.addBiasResidualNorm(
            scratch, bias: layer.attentionOutputBias.baseAddress!, residual: states, rows: rows.count, width: width,
            norm: layer.attentionNorm, epsilon: epsilon)
        Kernels.product(states, rows: rows.count, inner: width, weights: layer.intermediate.baseAddress!, outputs: inner, into: expanded)
        Kernels.addBiasGELU(expanded, rows: rows.count, width: inner, bias: layer.intermediateBias.baseAddress!)
        Kernels.product(expanded, rows: rows.count, inner: inner, weights: layer.output.baseAddress!, outputs: width, into: scratch)
        Kernels.addBiasResidualNorm(
            scratch, bias: layer.outputBias.baseAddress!, residual: states, rows: rows.count, width: width,
            norm: layer.outputNorm, epsilon: epsilon)
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
