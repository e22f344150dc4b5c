import ConformanceKit
import Foundation
import Testing

@testable import SomaMiniLM

/// Broken model directories: each fails loading with a message naming the file and what is wrong.
@Suite struct ModelFileTests {
    /// A copy of the installed model (links to its files) with `change` applied.
    func brokenCopy(_ change: (URL) throws -> Void) throws -> URL {
        let copy = Scratch.path("minilm")
        try FileManager.default.createDirectory(at: copy.appendingPathComponent("1_Pooling"), withIntermediateDirectories: true)
        let source = URL(fileURLWithPath: Reference.modelDirectory)
        for file in ["config.json", "sentence_bert_config.json", "1_Pooling/config.json", "tokenizer.json", "model.safetensors"] {
            try FileManager.default.createSymbolicLink(at: copy.appendingPathComponent(file), withDestinationURL: source.appendingPathComponent(file))
        }
        try change(copy)
        return copy
    }

    /// Loading hashes 90 MB: it runs on a thread of its own, so these tests do not hold up the
    /// cooperative pool that the encoder tests measure.
    func loadError(_ directory: URL) async -> String {
        var settings = settingsForTests()
        settings.directory = directory.path
        let chosen = settings
        return await withCheckedContinuation { continuation in
            Thread {
                do {
                    _ = try MiniLMEmbedder(chosen)
                    continuation.resume(returning: "loaded")
                } catch {
                    continuation.resume(returning: String(describing: error))
                }
            }.start()
        }
    }

    func replace(_ file: String, in directory: URL, with data: Data) throws {
        let url = directory.appendingPathComponent(file)
        try FileManager.default.removeItem(at: url)
        try data.write(to: url)
    }

    @Test func missingDirectorySaysHowToInstall() async {
        let message = await loadError(URL(fileURLWithPath: "/nonexistent/minilm"))
        #expect(message.contains("/nonexistent/minilm") && message.contains("scripts/install-model.sh"))
    }

    @Test func missingTokenizer() async throws {
        let directory = try brokenCopy { try FileManager.default.removeItem(at: $0.appendingPathComponent("tokenizer.json")) }
        #expect(await loadError(directory).contains("tokenizer.json is missing"))
    }

    @Test func truncatedWeights() async throws {
        let weights = try Data(contentsOf: URL(fileURLWithPath: Reference.modelDirectory).appendingPathComponent("model.safetensors"))
        let directory = try brokenCopy { try replace("model.safetensors", in: $0, with: weights.prefix(weights.count / 2)) }
        let message = await loadError(directory)
        #expect(message.contains("model.safetensors is truncated"), "\(message)")
    }

    @Test func corruptHeader() async throws {
        var bytes = Data(count: 8)
        bytes[0] = 0xFF
        bytes[7] = 0x7F
        let directory = try brokenCopy { try replace("model.safetensors", in: $0, with: bytes + Data("{}".utf8)) }
        #expect(await loadError(directory).contains("header claims"))
        let garbage = try brokenCopy { try replace("model.safetensors", in: $0, with: Data([4, 0, 0, 0, 0, 0, 0, 0]) + Data("nope".utf8)) }
        #expect(await loadError(garbage).contains("not a JSON object"))
    }

    @Test func wrongChecksum() async throws {
        var weights = try Data(contentsOf: URL(fileURLWithPath: Reference.modelDirectory).appendingPathComponent("model.safetensors"))
        weights[weights.count - 1] ^= 0x01
        let directory = try brokenCopy { try replace("model.safetensors", in: $0, with: weights) }
        let message = await loadError(directory)
        #expect(message.contains("SHA-256") && message.contains(ModelDirectory.weightsSHA256), "\(message)")
    }

    /// A configuration whose shapes the weights do not have.
    @Test func wrongShape() async throws {
        let config = URL(fileURLWithPath: Reference.modelDirectory).appendingPathComponent("config.json")
        let edited = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(
            of: "\"intermediate_size\": 1536", with: "\"intermediate_size\": 1024")
        let directory = try brokenCopy { try replace("config.json", in: $0, with: Data(edited.utf8)) }
        let message = await loadError(directory)
        #expect(message.contains("of shape [1536, 384]; config.json implies [1024, 384]"), "\(message)")
    }

    /// Header entries that lie about their data.
    @Test func inconsistentTensorEntries() throws {
        func file(_ header: String, data: Int) throws -> String {
            var bytes = Data()
            var length = UInt64(header.utf8.count).littleEndian
            bytes.append(Data(bytes: &length, count: 8))
            bytes.append(Data(header.utf8))
            bytes.append(Data(count: data))
            let url = Scratch.path("tensors", suffix: ".safetensors")
            try bytes.write(to: url)
            do {
                _ = try SafeTensors(url)
                return "read"
            } catch {
                return String(describing: error)
            }
        }
        #expect(try file(#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"#, data: 16).contains("spans 12 bytes"))
        #expect(try file(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8).contains("is truncated: tensor 'a' ends"))
        #expect(try file(#"{"a":{"dtype":"Q4","shape":[4],"data_offsets":[0,2]}}"#, data: 8).contains("unknown dtype Q4"))
        #expect(try file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8) == "read")
    }
}
