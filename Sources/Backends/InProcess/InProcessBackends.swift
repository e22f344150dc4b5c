import SomaCore

/// Registers the in-process backends under the name `inprocess`, and the hash embedder as `hash`.
public enum InProcessBackends {
    public static let name = "inprocess"

    public static func register(into registry: inout BackendRegistry) {
        registry.registerStorage(name) { _ in InProcessStorage() }
        registry.registerCache(name) { configuration in
            InProcessCache(capacity: try configuration.int("SOMA_CACHE_CAPACITY", default: 10_000))
        }
        registry.registerVector(name) { _, _ in InProcessVectorIndex() }
        registry.registerBus(name) { _ in InProcessEventBus() }
        registry.registerEmbedder("hash") { configuration in
            let dimension = try configuration.int("SOMA_VECTOR_DIM", default: HashEmbedder.defaultDimension)
            guard (1...8192).contains(dimension) else {
                throw BackendError.invalidSetting(name: "SOMA_VECTOR_DIM", reason: "must be between 1 and 8192")
            }
            return HashEmbedder(dimension: dimension)
        }
    }
}
