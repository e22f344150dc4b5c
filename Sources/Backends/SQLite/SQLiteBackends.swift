import SomaANN
import SomaCore

/// Registers SQLite storage and vectors under the name `sqlite`. Both share one data file in
/// `SOMA_DATA_DIR` (default `./data`).
public enum SQLiteBackends {
    public static let name = "sqlite"

    /// The database in `directory`, closed at the shutdown of whoever opened it.
    static func database(in directory: String) throws -> Provisioned<SQLiteDatabase> {
        let database = try SQLiteDatabase(directory: directory)
        return Provisioned(database, services: [CloseAtShutdown { database.close() }])
    }

    static let dataDirectory = SharedSettings.dataDirectory

    static func described(_ settings: [any DeclaredSetting], _ automatic: AutomaticChoice, diagnosis: String) -> BackendDescription {
        BackendDescription(name: name, settings: [dataDirectory] + settings, automatic: [automatic], diagnosis: diagnosis) { configuration in
            (try? configuration.value(dataDirectory)) ?? dataDirectory.defaultValue
        }
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerStorage(
            described(
                [], .fallback(priority: 10, "the default: a file in \(dataDirectory.name)"),
                diagnosis:
                    "check \(dataDirectory.name) and the data file's permissions; a file another build migrated further cannot be opened by this one")
        ) { configuration in
            let database = try database(in: configuration.value(dataDirectory))
            return Provisioned(SQLiteStorage(database: database.backend), services: database.services)
        }
        let besideStorage = AutomaticChoice(priority: 50, when: "the storage is sqlite") { _, chosen in chosen[.storage] == name }
        registry.registerVector(described([SharedSettings.vectorDimension] + ANNBackends.settings, besideStorage, diagnosis: ANNBackends.diagnosis)) {
            configuration, storage in
            // Beside SQLite storage the file is the storage's (closed with it); else its own.
            let database = try (storage as? SQLiteStorage).map { Provisioned($0.database) } ?? database(in: configuration.value(dataDirectory))
            let parameters = try ANNBackends.parameters(configuration)
            let dimension = try configuration.value(SharedSettings.vectorDimension)
            let generation = try configuration.value(EmbeddingState.generation)
            let vectors = try await SQLiteVectorIndex(
                database: database.backend, dimension: dimension, parameters: parameters, generation: generation)
            // Reverse order at shutdown: the graphs are saved before the file is closed.
            return Provisioned(vectors, services: database.services + [vectors.graphSaver])
        }
    }
}
