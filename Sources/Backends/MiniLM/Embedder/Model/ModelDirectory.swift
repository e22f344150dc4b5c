import Crypto
import Foundation

/// The files of all-MiniLM-L6-v2 as sentence-transformers publishes them, read and verified.
struct ModelDirectory {
    /// SHA-256 of the published `model.safetensors`; a file that differs is refused.
    static let weightsSHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    static let defaultPath = "/usr/local/share/soma/models/all-MiniLM-L6-v2"
    static let installHint = "install them with `scripts/install-model.sh`, or point SOMA_EMBEDDER_MODEL_DIR at a directory holding them"

    let url: URL
    let configuration: BertConfiguration
    let maxSequenceLength: Int

    init(_ path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelFileError(url, "does not exist: the all-MiniLM-L6-v2 model files are missing; \(Self.installHint)")
        }
        let configURL = url.appendingPathComponent("config.json")
        do {
            configuration = try BertConfiguration(try Self.object(configURL))
        } catch let error as BertConfigurationError {
            throw ModelFileError(configURL, error.description)
        }
        let sentenceBert = try Self.object(url.appendingPathComponent("sentence_bert_config.json"))
        guard let length = sentenceBert["max_seq_length"] as? Int, (2...configuration.maxPositions).contains(length) else {
            throw ModelFileError(url.appendingPathComponent("sentence_bert_config.json"), "lacks a max_seq_length within the model's positions")
        }
        maxSequenceLength = length
        let pooling = try Self.object(url.appendingPathComponent("1_Pooling/config.json"))
        guard pooling["pooling_mode_mean_tokens"] as? Bool == true else {
            throw ModelFileError(
                url.appendingPathComponent("1_Pooling/config.json"), "does not configure mean pooling, which this encoder implements")
        }
    }

    var weights: URL { url.appendingPathComponent("model.safetensors") }
    var tokenizer: URL { url.appendingPathComponent("tokenizer.json") }

    /// The weights, mapped, after their checksum matched the published file's. The file is hashed
    /// by reading, not through the mapping, so only the pages the encoder uses become resident.
    func verifiedWeights() throws -> SafeTensors {
        let tensors = try SafeTensors(weights)
        guard let handle = try? FileHandle(forReadingFrom: weights) else { throw ModelFileError(weights, "cannot be read") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty { hasher.update(data: chunk) }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == Self.weightsSHA256 else {
            throw ModelFileError(weights, "has SHA-256 \(digest), not the published model's \(Self.weightsSHA256); \(Self.installHint)")
        }
        return tensors
    }

    static func object(_ url: URL) throws -> [String: Any] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ModelFileError(url, "is missing; \(installHint)") }
        guard let data = try? Data(contentsOf: url), let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelFileError(url, "is not a JSON object")
        }
        return object
    }
}

/// The BERT hyper-parameters of `config.json` that shape the weights and the forward pass.
struct BertConfiguration: Equatable {
    let vocabularySize: Int
    let hidden: Int
    let layers: Int
    let heads: Int
    let intermediate: Int
    let maxPositions: Int
    let typeVocabularySize: Int
    let layerNormEpsilon: Float

    init(_ json: [String: Any]) throws {
        func positive(_ key: String) throws -> Int {
            guard let value = json[key] as? Int, value > 0 else { throw BertConfigurationError(key: key) }
            return value
        }
        vocabularySize = try positive("vocab_size")
        hidden = try positive("hidden_size")
        layers = try positive("num_hidden_layers")
        heads = try positive("num_attention_heads")
        intermediate = try positive("intermediate_size")
        maxPositions = try positive("max_position_embeddings")
        typeVocabularySize = try positive("type_vocab_size")
        layerNormEpsilon = Float((json["layer_norm_eps"] as? Double) ?? 1e-12)
        guard hidden % heads == 0 else { throw BertConfigurationError(key: "num_attention_heads") }
        guard json["hidden_act"] as? String == "gelu" else { throw BertConfigurationError(key: "hidden_act") }
    }

    var headSize: Int { hidden / heads }
}

struct BertConfigurationError: Error, CustomStringConvertible {
    let key: String
    var description: String { "config.json: '\(key)' is missing or not what a BERT encoder with GELU needs" }
}
