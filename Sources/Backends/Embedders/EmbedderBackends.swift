import SomaCore

/// Registers the OpenAI-compatible HTTP embedder as `openai`.
public enum EmbedderBackends {
    public static let openAI = "openai"

    public static func register(into registry: inout BackendRegistry) {
        registry.registerEmbedder(openAI) { configuration in
            let settings = try OpenAIEmbedderSettings(configuration)
            let configured = try configuration.string("SOMA_VECTOR_DIM").map { _ in try configuration.int("SOMA_VECTOR_DIM", default: 0) }
            if let configured, !(1...65_536).contains(configured) {
                throw BackendError.invalidSetting(name: "SOMA_VECTOR_DIM", reason: "must be between 1 and 65536")
            }
            return try await OpenAIEmbedder.make(settings, configuredDimension: configured)
        }
    }
}
