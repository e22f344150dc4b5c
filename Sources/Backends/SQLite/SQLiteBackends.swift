import SomaANN
import SomaCore
import Synchronization

/// Registers SQLite storage and vectors under the name `sqlite`. Both share one data file in
/// `SOMA_DATA_DIR` (default `./data`).
public enum SQLiteBackends {
    public static let name = "sqlite"

    /// One open database per directory, shared by the storage and vector backends of a process.
    private static let open = Mutex<[String: SQLiteDatabase]>([:])

    public static func database(in directory: String) throws -> SQLiteDatabase {
        try open.withLock { open in
            if let database = open[directory] { return database }
            let database = try SQLiteDatabase(directory: directory)
            open[directory] = database
            return database
        }
    }

    static let dataDirectory = SettingDescription(
        "SOMA_DATA_DIR", default: "./data",
        "Data directory of the SQLite default (`soma.sqlite`, saved HNSW graphs `ann-*.hnsw`); a corrupt file or unwritable directory stops start-up")

    static func described(_ settings: [SettingDescription], _ automatic: AutomaticChoice) -> BackendDescription {
        BackendDescription(name: name, settings: [dataDirectory] + settings, automatic: [automatic]) { configuration in
            configuration.string("SOMA_DATA_DIR") ?? "./data"
        }
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerStorage(described([], .fallback(priority: 10, "the default: a file in SOMA_DATA_DIR"))) { configuration in
            SQLiteStorage(database: try database(in: configuration.string("SOMA_DATA_DIR") ?? "./data"))
        }
        let besideStorage = AutomaticChoice(priority: 50, when: "the storage is sqlite") { _, chosen in chosen[.storage] == name }
        registry.registerVector(described([.vectorDimension] + ANNBackends.settings, besideStorage)) { configuration, storage in
            let database = try (storage as? SQLiteStorage)?.database ?? database(in: configuration.string("SOMA_DATA_DIR") ?? "./data")
            let parameters = try ANNBackends.parameters(configuration)
            let dimension = try configuration.int("SOMA_VECTOR_DIM", default: HashEmbedder.defaultDimension)
            let generation = try configuration.int(EmbeddingState.generationSetting, default: 0)
            return try await SQLiteVectorIndex(database: database, dimension: dimension, parameters: parameters, generation: generation)
        }
    }
}
