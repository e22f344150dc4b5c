/// Settings more than one target reads, declared once here.
public enum SharedSettings {
    /// Read by every backend that sizes vectors (the hash embedder, the in-process indexes, pgvector).
    public static let vectorDimension = Setting<Int>(
        "SOMA_VECTOR_DIM", default: HashEmbedder.defaultDimension, in: 1...65_536,
        "The embedder's dimension (the hash embedder's; for the `openai` embedder the model's, learned from the server when unset; `minilm` is always 384)"
    )

    /// Whether outbox events are relayed to a bus: the service's relay, and the Kafka bus's automatic choice.
    public static let eventingEnabled = Setting<Bool>(
        "EVENTING_ENABLED", default: true, "Relay outbox events to the bus (a bus that needs them, such as Kafka, is chosen by itself only then)")

    /// Whether a storage with a schema applies its migrations at start-up; `soma migrate` and `soma
    /// doctor` set it for themselves.
    public static let autoMigrate = Setting<Bool>(
        "SOMA_AUTO_MIGRATE", default: true, "Apply migrations at start-up; `false`: run `soma migrate` first")

    /// The SQLite default's directory: its backends, and the service's data-directory checks.
    public static let dataDirectory = Setting<String>(
        "SOMA_DATA_DIR", default: "./data",
        "Data directory of the SQLite default (`soma.sqlite`, saved HNSW graphs `ann-*.hnsw`); a corrupt file or unwritable directory stops start-up")
}
