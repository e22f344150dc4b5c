/// The encoder's weights, read in place from the mapped safetensors file after each tensor's shape
/// was checked against `config.json`. Only the query, key and value projections are copied, side
/// by side into one matrix, so a layer's three projections are one matrix product.
final class BertWeights: @unchecked Sendable {
    struct Norm {
        let weight: UnsafeBufferPointer<Float>
        let bias: UnsafeBufferPointer<Float>
    }

    struct Layer {
        /// [3·hidden, hidden]: query, key and value rows stacked.
        let queryKeyValue: UnsafeMutableBufferPointer<Float>
        let queryKeyValueBias: UnsafeMutableBufferPointer<Float>
        let attentionOutput: UnsafeBufferPointer<Float>
        let attentionOutputBias: UnsafeBufferPointer<Float>
        let attentionNorm: Norm
        let intermediate: UnsafeBufferPointer<Float>
        let intermediateBias: UnsafeBufferPointer<Float>
        let output: UnsafeBufferPointer<Float>
        let outputBias: UnsafeBufferPointer<Float>
        let outputNorm: Norm
    }

    let configuration: BertConfiguration
    let words: UnsafeBufferPointer<Float>
    let positions: UnsafeBufferPointer<Float>
    let tokenTypes: UnsafeBufferPointer<Float>
    let embeddingNorm: Norm
    let layers: [Layer]
    /// Keeps the mapping alive as long as the pointers into it.
    private let file: SafeTensors

    init(_ file: SafeTensors, _ configuration: BertConfiguration) throws {
        self.file = file
        self.configuration = configuration
        let hidden = configuration.hidden
        func norm(_ prefix: String) throws -> Norm {
            Norm(
                weight: try file.floats("\(prefix).LayerNorm.weight", shape: [hidden]),
                bias: try file.floats("\(prefix).LayerNorm.bias", shape: [hidden]))
        }
        words = try file.floats("embeddings.word_embeddings.weight", shape: [configuration.vocabularySize, hidden])
        positions = try file.floats("embeddings.position_embeddings.weight", shape: [configuration.maxPositions, hidden])
        tokenTypes = try file.floats("embeddings.token_type_embeddings.weight", shape: [configuration.typeVocabularySize, hidden])
        embeddingNorm = try norm("embeddings")
        layers = try (0..<configuration.layers).map { index in
            let prefix = "encoder.layer.\(index)"
            let projections = try ["query", "key", "value"].map { name in
                (
                    try file.floats("\(prefix).attention.self.\(name).weight", shape: [hidden, hidden]),
                    try file.floats("\(prefix).attention.self.\(name).bias", shape: [hidden])
                )
            }
            let stacked = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * hidden * hidden)
            let stackedBias = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * hidden)
            for (part, (weight, bias)) in projections.enumerated() {
                _ = UnsafeMutableBufferPointer(rebasing: stacked[(part * hidden * hidden)...]).initialize(from: weight)
                _ = UnsafeMutableBufferPointer(rebasing: stackedBias[(part * hidden)...]).initialize(from: bias)
            }
            return Layer(
                queryKeyValue: stacked, queryKeyValueBias: stackedBias,
                attentionOutput: try file.floats("\(prefix).attention.output.dense.weight", shape: [hidden, hidden]),
                attentionOutputBias: try file.floats("\(prefix).attention.output.dense.bias", shape: [hidden]),
                attentionNorm: try norm("\(prefix).attention.output"),
                intermediate: try file.floats("\(prefix).intermediate.dense.weight", shape: [configuration.intermediate, hidden]),
                intermediateBias: try file.floats("\(prefix).intermediate.dense.bias", shape: [configuration.intermediate]),
                output: try file.floats("\(prefix).output.dense.weight", shape: [hidden, configuration.intermediate]),
                outputBias: try file.floats("\(prefix).output.dense.bias", shape: [hidden]),
                outputNorm: try norm("\(prefix).output"))
        }
    }

    deinit {
        for layer in layers {
            layer.queryKeyValue.deallocate()
            layer.queryKeyValueBias.deallocate()
        }
    }
}
