import SomaCore

/// Registers Qdrant as the vector backend `qdrant`.
public enum QdrantBackends {
    public static let name = "qdrant"

    public static func register(into registry: inout BackendRegistry) {
        registry.registerVector(name) { configuration, _ in
            QdrantVectorIndex(endpoint: try QdrantEndpoint(configuration))
        }
    }
}
