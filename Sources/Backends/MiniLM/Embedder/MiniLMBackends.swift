import Foundation
import SomaCore

/// Registers the in-process all-MiniLM-L6-v2 embedder as `minilm`.
public enum MiniLMBackends {
    public static let name = "minilm"
    public static let defaultModelDirectory = ModelDirectory.defaultPath

    public static func register(into registry: inout BackendRegistry) {
        registry.registerEmbedder(name) { configuration in
            var settings = MiniLMEmbedder.Settings()
            settings.directory = configuration.string("SOMA_EMBEDDER_MODEL_DIR") ?? settings.directory
            settings.threads = try configuration.int("SOMA_EMBEDDER_THREADS", default: settings.threads, in: 1...256)
            settings.batchSize = try configuration.int("SOMA_EMBEDDER_BATCH", default: settings.batchSize, in: 1...1024)
            do {
                return try MiniLMEmbedder(settings)
            } catch let error as ModelFileError {
                throw BackendError.unreachable(backend: "embedder minilm", reason: "cannot load all-MiniLM-L6-v2: \(error)")
            }
        }
    }
}
