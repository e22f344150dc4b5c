import Foundation
import Logging
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
    static let precision = Setting<EncoderPrecision>(
        "SOMA_EMBEDDER_PRECISION", default: MiniLMEmbedder.Settings().precision,
        "The model's matrix products: fp32, or int8 (2.3-2.9x the texts/s, vectors at cosine 0.997 to fp32; needs AVX-512 VNNI, else fp32 with a log line)"
    )
    static let portableKernels = Setting<Bool>(
        "SOMA_EMBEDDER_PORTABLE_KERNELS", default: false,
        "Run the model on OpenBLAS and portable loops only, as on a CPU without AVX-512 (int8 falls back to fp32): to test that path, or to rule the AVX-512 kernels out"
    )

    static func settings(_ configuration: BackendConfiguration) throws -> MiniLMEmbedder.Settings {
        var settings = MiniLMEmbedder.Settings()
        settings.directory = try configuration.value(modelDirectory)
        settings.threads = try configuration.value(threads)
        settings.batchSize = try configuration.value(batch)
        settings.precision = try configuration.value(precision)
        settings.portableKernels = try configuration.value(portableKernels)
        return settings
    }

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: name,
            settings: [modelDirectory, threads, batch, precision, portableKernels],
            automatic: [.fallback(priority: 10, "the in-process all-MiniLM-L6-v2 model is the default")],
            diagnosis:
                "install the model with `scripts/install-model.sh`, or point \(modelDirectory.name) at a directory holding it (SOMA_EMBEDDER=hash needs no model)",
            location: { configuration in
                guard let settings = try? settings(configuration) else { return defaultModelDirectory }
                return "\(settings.directory), \(MiniLMEmbedder.kernels(for: settings))"
            })
        registry.registerEmbedder(description) { configuration in
            let settings = try settings(configuration)
            do {
                let embedder = try MiniLMEmbedder(settings)
                if let fallback = embedder.precisionFallback { Logger(label: "soma.embedder").warning("\(fallback)") }
                return Provisioned(embedder, services: [CloseAtShutdown { await embedder.stop() }])
            } catch let error as ModelFileError {
                throw BackendError.unreachable(backend: "embedder minilm", reason: "cannot load all-MiniLM-L6-v2: \(error)")
            }
        }
    }
}
