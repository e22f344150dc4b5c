import SomaANN
import SomaCore

/// Registers SQLite storage and vectors under the name `sqlite`. Both share one data file in
/// `SOMA_DATA_DIR` (default `./data`).
public enum SQLiteBackends {
    public static let name = "sqlite"

    /// The database in `directory`, closed at the shutdown of whoever opened it.
    static func database(in directory: String) throws -> Provisioned<SQLiteDatabase> {
        let database = try SQLiteDatabase(directory: directory)
        return Provisioned(database, services: [CloseAtShutdown { try? database.pool.close() }])
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
            let database = try database(in: configuration.string("SOMA_DATA_DIR") ?? "./data")
            return Provisioned(SQLiteStorage(database: database.backend), services: database.services)
        }
        let besideStorage = AutomaticChoice(priority: 50, when: "the storage is sqlite") { _, chosen in chosen[.storage] == name }
        registry.registerVector(described([.vectorDimension] + ANNBackends.settings, besideStorage)) { configuration, storage in
            // Beside SQLite storage the file is the storage's (closed with it); else its own.
            let database = try (storage as? SQLiteStorage).map { Provisioned($0.database) } ?? database(in: configuration.string("SOMA_DATA_DIR") ?? "./data")
            let parameters = try ANNBackends.parameters(configuration)
            let dimension = try configuration.int("SOMA_VECTOR_DIM", default: HashEmbedder.defaultDimension)
            let generation = try configuration.int(EmbeddingState.generationSetting, default: 0)
            let vectors = try await SQLiteVectorIndex(database: database.backend, dimension: dimension, parameters: parameters, generation: generation)
            // Reverse order at shutdown: the graphs are saved before the file is closed.
            return Provisioned(vectors, services: database.services + [vectors.graphSaver])
        }
    }
}
