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

    public static func register(into registry: inout BackendRegistry) {
        registry.registerStorage(name) { configuration in
            SQLiteStorage(database: try database(in: configuration.string("SOMA_DATA_DIR") ?? "./data"))
        }
        registry.registerVector(name) { configuration, storage in
            let database = try (storage as? SQLiteStorage)?.database ?? database(in: configuration.string("SOMA_DATA_DIR") ?? "./data")
            let parameters = try ANNBackends.parameters(configuration)
            let dimension = try configuration.int("SOMA_VECTOR_DIM", default: HashEmbedder.defaultDimension)
            let generation = try configuration.int(EmbeddingState.generationSetting, default: 0)
            return try await SQLiteVectorIndex(database: database, dimension: dimension, parameters: parameters, generation: generation)
        }
    }
}
