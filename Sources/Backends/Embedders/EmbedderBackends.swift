import SomaBackendHTTP
import SomaCore

/// Registers the OpenAI-compatible HTTP embedder as `openai`.
public enum EmbedderBackends {
    public static let openAI = "openai"

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: openAI,
            settings: OpenAIEmbedderSettings.settings + [SharedSettings.vectorDimension],
            automatic: [.whenSet(OpenAIEmbedderSettings.url)],
            diagnosis:
                "check \(OpenAIEmbedderSettings.url.name), \(OpenAIEmbedderSettings.modelSetting.name) and \(OpenAIEmbedderSettings.apiKeySetting.name)",
            location: { configuration in (try? configuration.value(OpenAIEmbedderSettings.url)).flatMap { $0 }.map(Redaction.url) ?? "configured" })
        registry.registerEmbedder(description) { configuration in
            let settings = try OpenAIEmbedderSettings(configuration)
            // Unset: learned from the server.
            let dimension = SharedSettings.vectorDimension
            let configured = configuration.isSet(dimension) ? try configuration.value(dimension) : nil
            return try await BackendHTTPClient.provisioned { http -> any Embedder in
                try await OpenAIEmbedder.make(settings, configuredDimension: configured, http: http)
            }
        }
    }
}
