import SomaCore

/// Registers the in-process backends under the name `inprocess`, and the hash embedder as `hash`.
public enum InProcessBackends {
    public static let name = "inprocess"

    /// Chosen when no other backend of the capability is: the last resort everywhere.
    static func described(_ settings: [SettingDescription] = []) -> BackendDescription {
        BackendDescription(name: name, settings: settings, automatic: [.fallback("nothing else is configured")], location: { _ in "process memory" })
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerStorage(described()) { _ in Provisioned(InProcessStorage()) }
        let capacity = SettingDescription("SOMA_CACHE_CAPACITY", default: "10000", "Entries the in-process LRU cache holds")
        registry.registerCache(described([capacity])) { configuration in
            Provisioned(InProcessCache(capacity: try configuration.int("SOMA_CACHE_CAPACITY", default: 10_000)))
        }
        registry.registerVector(described()) { _, _ in Provisioned(InProcessVectorIndex()) }
        registry.registerBus(described()) { _ in Provisioned(InProcessEventBus()) }
        let hash = BackendDescription(
            name: "hash",
            settings: [.vectorDimension, SettingDescription("SOMA_FORCE_HASH_EMBEDDINGS", default: "false", "`1` selects the `hash` embedder, as in the original service")],
            automatic: [
                AutomaticChoice(priority: 200, when: "SOMA_FORCE_HASH_EMBEDDINGS is true") { configuration, _ in
                    (try? configuration.bool("SOMA_FORCE_HASH_EMBEDDINGS", default: false)) ?? false
                },
                .fallback("no embedding model is built in"),
            ],
            location: { _ in "built in" })
        registry.registerEmbedder(hash) { configuration in
            let dimension = try configuration.int("SOMA_VECTOR_DIM", default: HashEmbedder.defaultDimension)
            guard (1...8192).contains(dimension) else {
                throw BackendError.invalidSetting(name: "SOMA_VECTOR_DIM", reason: "must be between 1 and 8192")
            }
            return Provisioned(HashEmbedder(dimension: dimension))
        }
    }
}
