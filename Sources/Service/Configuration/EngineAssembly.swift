import Foundation
import Logging
import SomaCore

/// Builds the engine from the registry and configuration, logging one line per capability:
/// which backend, and where (credentials redacted).
public enum EngineAssembly {
    public static func build(registry: BackendRegistry, source: SettingsSource, settings: ServiceSettings, logger: Logger) async throws -> MemoryEngine {
        let names = settings.backends.resolved(in: registry)
        let config = source.backendConfiguration
        // The embedder first: missing model files fail start-up before any storage is created or opened.
        let embedder = try await registry.makeEmbedder(names[.embedder]!, config)
        let storage = try await registry.makeStorage(names[.storage]!, config)
        let cache = try await registry.makeCache(names[.cache]!, config)
        // Refuses to start when the index holds another model's vectors; else names its generation.
        let generation = try await EmbeddingState.check(storage, embedder)
        let vectors = try await registry.makeVector(names[.vector]!, vectorConfiguration(config, embedder, generation: generation), storage: storage)
        let bus = try await registry.makeBus(names[.bus]!, config)
        for capability in Capability.allCases {
            let name = names[capability]!
            logger.info("backend", metadata: ["capability": .string(capability.rawValue), "name": .string(name), "where": .string(location(capability, name, source))])
            MetricsBootstrap.registry.makeGauge(descriptor: ServiceInfoMetrics.backend, labels: [("capability", capability.rawValue), ("backend", name)]).set(to: 1)
        }
        MetricsBootstrap.registry.makeGauge(
            descriptor: ServiceInfoMetrics.embedder, labels: [("model", embedder.modelID), ("dimension", String(embedder.dimension))]).set(to: 1)
        OriginalSettings.logWarnings(source, logger: logger)
        let engine = MemoryEngine(storage: storage, cache: cache, vectors: vectors, bus: bus, embedder: embedder, options: settings.engine)
        try await engine.prepare()
        return engine
    }

    /// The vector backend's settings for one generation, at the embedder's dimension (which an
    /// HTTP embedder may have learned from its server rather than from SOMA_VECTOR_DIM).
    public static func vectorConfiguration(_ config: BackendConfiguration, _ embedder: any Embedder, generation: Int) -> BackendConfiguration {
        config.overriding([EmbeddingState.generationSetting: String(generation), "SOMA_VECTOR_DIM": String(embedder.dimension)])
    }

    static func location(_ capability: Capability, _ name: String, _ source: SettingsSource) -> String {
        let urlSetting: String? = switch (capability, name) {
        case (.storage, "postgres"), (.vector, "pgvector"): "POSTGRES_URL"
        case (.cache, "redis"), (.bus, "redis"): "REDIS_URL"
        case (.vector, "qdrant"): "QDRANT_URL"
        case (.bus, "kafka"): "KAFKA_BOOTSTRAP_SERVERS"
        case (.embedder, "openai"): "SOMA_EMBEDDINGS_URL"
        default: nil
        }
        if let urlSetting, let value = source.string(urlSetting) { return Redaction.url(value) }
        switch name {
        case "inprocess": return "process memory"
        case "hash": return "built in"
        case "minilm": return source.string("SOMA_EMBEDDER_MODEL_DIR") ?? "the installed model files"
        case "sqlite": return source.string("SOMA_DATA_DIR") ?? "./data"
        default: return "configured"
        }
    }
}

public enum Redaction {
    /// `scheme://user:secret@host:port/db?password=x` -> `scheme://user:***@host:port/db`.
    public static func url(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.host != nil else { return "(set)" }
        if components.password != nil { components.password = "***" }
        components.query = nil
        return components.string ?? "(set)"
    }
}
