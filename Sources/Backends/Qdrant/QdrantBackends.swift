import SomaBackendHTTP
import SomaCore

/// Registers Qdrant as the vector backend `qdrant`.
public enum QdrantBackends {
    public static let name = "qdrant"

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: name,
            settings: [
                SettingDescription("QDRANT_URL", "Selects the `qdrant` vector backend: `http(s)://host:port`"),
                SettingDescription("QDRANT_HOST", "The Qdrant host, when QDRANT_URL is unset"),
                SettingDescription("QDRANT_PORT", default: "6333", "The Qdrant port, with QDRANT_HOST"),
                SettingDescription("QDRANT_API_KEY", secret: true, "Sent as the `api-key` header"),
                SettingDescription("QDRANT_COLLECTION", default: "soma_memories", "Collection name (created when missing, cosine, the embedder's dimension)"),
                SettingDescription("QDRANT_TIMEOUT_MS", default: "5000", "Deadline per request"),
            ],
            automatic: [.whenSet("QDRANT_URL", "QDRANT_HOST")],
            location: { configuration in
                configuration.string("QDRANT_URL").map(Redaction.url) ?? "\(configuration.string("QDRANT_HOST") ?? "?"):\(configuration.string("QDRANT_PORT") ?? "6333")"
            })
        registry.registerVector(description) { configuration, _ in
            let endpoint = try QdrantEndpoint(configuration)
            return try await BackendHTTPClient.provisioned { http -> any VectorIndex in QdrantVectorIndex(endpoint: endpoint, http: http) }
        }
    }
}
