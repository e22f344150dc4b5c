import Foundation
import SomaCore

/// Registers the in-process all-MiniLM-L6-v2 embedder as `minilm`.
public enum MiniLMBackends {
    public static let name = "minilm"
    public static let defaultModelDirectory = ModelDirectory.defaultPath

    static let modelDirectory = Setting<String>(
        "SOMA_EMBEDDER_MODEL_DIR", default: defaultModelDirectory,
        "Where the `minilm` embedder reads its model files (put there by scripts/install-model.sh)")
    static let threads = Setting<Int>(
        "SOMA_EMBEDDER_THREADS", default: MiniLMEmbedder.Settings().threads, in: 1...256, shownDefault: "the cores",
        "Threads the model computes on (its own, never the request handlers')")
    static let batch = Setting<Int>(
        "SOMA_EMBEDDER_BATCH", default: MiniLMEmbedder.Settings().batchSize, in: 1...1024, "Texts per forward pass when stores queue up")

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: name,
            settings: [modelDirectory, threads, batch],
            automatic: [.fallback(priority: 10, "the in-process all-MiniLM-L6-v2 model is the default")],
            diagnosis:
                "install the model with `scripts/install-model.sh`, or point \(modelDirectory.name) at a directory holding it (SOMA_EMBEDDER=hash needs no model)",
            location: { configuration in (try? configuration.value(modelDirectory)) ?? defaultModelDirectory })
        registry.registerEmbedder(description) { configuration in
            var settings = MiniLMEmbedder.Settings()
            settings.directory = try configuration.value(modelDirectory)
            settings.threads = try configuration.value(threads)
            settings.batchSize = try configuration.value(batch)
            do {
                let embedder = try MiniLMEmbedder(settings)
                return Provisioned(embedder, services: [CloseAtShutdown { await embedder.stop() }])
            } catch let error as ModelFileError {
                throw BackendError.unreachable(backend: "embedder minilm", reason: "cannot load all-MiniLM-L6-v2: \(error)")
            }
        }
    }
}
