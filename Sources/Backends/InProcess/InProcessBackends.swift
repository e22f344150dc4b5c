import SomaCore

/// Registers the in-process backends under the name `inprocess`, and the hash embedder as `hash`.
public enum InProcessBackends {
    public static let name = "inprocess"

    /// Chosen when no other backend of the capability is: the last resort everywhere.
    static func described(_ settings: [any DeclaredSetting] = []) -> BackendDescription {
        BackendDescription(
            name: name, settings: settings, automatic: [.fallback("nothing else is configured")],
            diagnosis: "it lives in this process's memory: a failure here is a bug, please report it with the log",
            location: { _ in "process memory" })
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerStorage(described()) { _ in Provisioned(InProcessStorage()) }
        let capacity = Setting<Int>("SOMA_CACHE_CAPACITY", default: 10_000, in: 1...100_000_000, "Entries the in-process LRU cache holds")
        registry.registerCache(described([capacity])) { configuration in
            Provisioned(InProcessCache(capacity: try configuration.value(capacity)))
        }
        registry.registerVector(described()) { _, _ in Provisioned(InProcessVectorIndex()) }
        registry.registerBus(described()) { _ in Provisioned(InProcessEventBus()) }
        let forceHash = Setting<Bool>("SOMA_FORCE_HASH_EMBEDDINGS", default: false, "`1` selects the `hash` embedder, as in the original service")
        let hash = BackendDescription(
            name: "hash",
            settings: [SharedSettings.vectorDimension, forceHash],
            automatic: [
                AutomaticChoice(priority: 200, when: "\(forceHash.name) is true") { configuration, _ in
                    (try? configuration.value(forceHash)) ?? false
                },
                .fallback("no embedding model is built in"),
            ],
            diagnosis: "check \(SharedSettings.vectorDimension.name) (1 to 65536)",
            location: { _ in "built in" })
        registry.registerEmbedder(hash) { configuration in
            Provisioned(HashEmbedder(dimension: try configuration.value(SharedSettings.vectorDimension)))
        }
    }
}
