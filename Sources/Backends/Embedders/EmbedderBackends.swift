import SomaBackendHTTP
import SomaCore

/// Registers the OpenAI-compatible HTTP embedder as `openai`.
public enum EmbedderBackends {
    public static let openAI = "openai"

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: openAI,
            settings: [
                SettingDescription("SOMA_EMBEDDINGS_URL", "Selects the `openai` embedder: the API base of any server with OpenAI's embeddings API"),
                SettingDescription("SOMA_EMBEDDINGS_MODEL", "The model the server is asked for"),
                SettingDescription("SOMA_EMBEDDINGS_API_KEY", secret: true, "Sent as the bearer token"),
                SettingDescription("SOMA_EMBEDDINGS_DIMENSIONS", "Sent as `dimensions`, for models that shorten their vectors"),
                SettingDescription("SOMA_EMBEDDINGS_BATCH_SIZE", default: "64", "Texts per request"),
                SettingDescription("SOMA_EMBEDDINGS_CONCURRENCY", default: "4", "Requests in flight at once, for the whole process"),
                SettingDescription("SOMA_EMBEDDINGS_TIMEOUT_MS", default: "30000", "Deadline per request"),
                SettingDescription("SOMA_EMBEDDINGS_MAX_ATTEMPTS", default: "4", "Tries per batch (429, 5xx, timeouts and refused connections are retried)"),
                SettingDescription("SOMA_EMBEDDINGS_RETRY_BACKOFF_MS", default: "200", "The first retry's delay, doubling"),
                SettingDescription("SOMA_EMBEDDINGS_MAX_CHARS", default: "8000", "Texts are cut to this many characters before embedding"),
                .vectorDimension,
            ],
            automatic: [.whenSet("SOMA_EMBEDDINGS_URL")],
            location: { configuration in configuration.string("SOMA_EMBEDDINGS_URL").map(Redaction.url) ?? "configured" })
        registry.registerEmbedder(description) { configuration in
            let settings = try OpenAIEmbedderSettings(configuration)
            let configured = try configuration.string("SOMA_VECTOR_DIM").map { _ in try configuration.int("SOMA_VECTOR_DIM", default: 0) }
            if let configured, !(1...65_536).contains(configured) {
                throw BackendError.invalidSetting(name: "SOMA_VECTOR_DIM", reason: "must be between 1 and 65536")
            }
            return try await BackendHTTPClient.provisioned { http -> any Embedder in
                try await OpenAIEmbedder.make(settings, configuredDimension: configured, http: http)
            }
        }
    }
}
