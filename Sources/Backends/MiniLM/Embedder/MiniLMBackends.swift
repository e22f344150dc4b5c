import Foundation
import SomaCore

/// Registers the in-process all-MiniLM-L6-v2 embedder as `minilm`.
public enum MiniLMBackends {
    public static let name = "minilm"
    public static let defaultModelDirectory = ModelDirectory.defaultPath

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: name,
            settings: [
                SettingDescription("SOMA_EMBEDDER_MODEL_DIR", default: defaultModelDirectory, "Where the `minilm` embedder reads its model files (put there by scripts/install-model.sh)"),
                SettingDescription("SOMA_EMBEDDER_THREADS", default: "the cores", "Threads the model computes on (its own, never the request handlers')"),
                SettingDescription("SOMA_EMBEDDER_BATCH", default: "32", "Texts per forward pass when stores queue up"),
            ],
            automatic: [.fallback(priority: 10, "the in-process all-MiniLM-L6-v2 model is the default")],
            location: { configuration in configuration.string("SOMA_EMBEDDER_MODEL_DIR") ?? defaultModelDirectory })
        registry.registerEmbedder(description) { configuration in
            var settings = MiniLMEmbedder.Settings()
            settings.directory = configuration.string("SOMA_EMBEDDER_MODEL_DIR") ?? settings.directory
            settings.threads = try configuration.int("SOMA_EMBEDDER_THREADS", default: settings.threads, in: 1...256)
            settings.batchSize = try configuration.int("SOMA_EMBEDDER_BATCH", default: settings.batchSize, in: 1...1024)
            do {
                let embedder = try MiniLMEmbedder(settings)
                return Provisioned(embedder, services: [CloseAtShutdown { await embedder.stop() }])
            } catch let error as ModelFileError {
                throw BackendError.unreachable(backend: "embedder minilm", reason: "cannot load all-MiniLM-L6-v2: \(error)")
            }
        }
    }
}
