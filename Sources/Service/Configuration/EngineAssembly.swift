import Foundation
import Logging
import SomaCore

/// Builds the engine from the registry and configuration, logging one line per capability:
/// which backend, and where (credentials redacted).
public enum EngineAssembly {
    /// Each backend's services start under `lifetime` as the backend is built.
    public static func build(
        registry: BackendRegistry, source: SettingsSource, settings: ServiceSettings, logger: Logger, in lifetime: BackendLifetime
    ) async throws -> MemoryEngine {
        let chosen = try settings.backends.chosen(in: registry)
        let names = chosen.mapValues(\.name)
        let config = source.backendConfiguration
        // The embedder first: missing model files fail start-up before any storage is created or opened.
        let embedder = try await registry.makeEmbedder(names[.embedder]!, config, in: lifetime)
        let storage = try await registry.makeStorage(names[.storage]!, config, in: lifetime)
        let cache = try await registry.makeCache(names[.cache]!, config, in: lifetime)
        // Refuses to start when the index holds another model's vectors; else names its generation.
        let generation = try await EmbeddingState.check(storage, embedder)
        let vectors = try await registry.makeVector(
            names[.vector]!, vectorConfiguration(config, embedder, generation: generation), storage: storage, in: lifetime)
        let bus = try await registry.makeBus(names[.bus]!, config, in: lifetime)
        for capability in Capability.allCases {
            let choice = chosen[capability]!
            let location = registry.description(capability, choice.name)?.location(config) ?? "configured"
            logger.info(
                "backend",
                metadata: [
                    "capability": .string(capability.rawValue), "name": .string(choice.name), "where": .string(location),
                    "because": .string(choice.reason),
                ])
            MetricsBootstrap.registry.makeGauge(
                descriptor: ServiceInfoMetrics.backend, labels: [("capability", capability.rawValue), ("backend", choice.name)]
            ).set(to: 1)
        }
        MetricsBootstrap.registry.makeGauge(
            descriptor: ServiceInfoMetrics.embedder, labels: [("model", embedder.modelID), ("dimension", String(embedder.dimension))]
        ).set(to: 1)
        OriginalSettings.logWarnings(source, logger: logger)
        var options = settings.engine
        options.backendNames = names
        let engine = MemoryEngine(storage: storage, cache: cache, vectors: vectors, bus: bus, embedder: embedder, options: options)
        try await engine.prepare()
        return engine
    }

    /// The vector backend's settings for one generation, at the embedder's dimension (which an
    /// HTTP embedder may have learned from its server rather than from SOMA_VECTOR_DIM).
    public static func vectorConfiguration(_ config: BackendConfiguration, _ embedder: any Embedder, generation: Int) -> BackendConfiguration {
        config.overriding([EmbeddingState.generation.name: String(generation), SharedSettings.vectorDimension.name: String(embedder.dimension)])
    }
}
