import SomaBackendHTTP
import SomaCore

/// Registers Qdrant as the vector backend `qdrant`.
public enum QdrantBackends {
    public static let name = "qdrant"

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: name,
            settings: QdrantEndpoint.settings,
            automatic: [.whenSet(QdrantEndpoint.url, QdrantEndpoint.host)],
            diagnosis: "check \(QdrantEndpoint.url.name) and \(QdrantEndpoint.apiKeySetting.name); a collection of another dimension belongs "
                + "to another model: set \(QdrantEndpoint.collectionSetting.name) to a new name or run `soma reindex`",
            location: QdrantEndpoint.location)
        registry.registerVector(description) { configuration, _ in
            let endpoint = try QdrantEndpoint(configuration)
            return try await BackendHTTPClient.provisioned { http -> any VectorIndex in QdrantVectorIndex(endpoint: endpoint, http: http) }
        }
    }
}
