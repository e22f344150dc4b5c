import Foundation
import SomaCore

/// `NearestNeighbourIndex` as an in-process vector backend (`SOMA_VECTOR=hnsw`): approximate
/// search without persistence, for in-process deployments with many vectors.
public final class InMemoryANNIndex: NearestNeighbourBacked {
    public let index: NearestNeighbourIndex

    public init(dimension: Int, parameters: ANNParameters = ANNParameters()) {
        index = NearestNeighbourIndex(dimension: dimension, parameters: parameters)
    }

    public func ensureCollection(dimension: Int) async throws {
        guard dimension == index.dimension else { throw BackendError.dimensionMismatch(expected: dimension, actual: index.dimension) }
    }

    public func upsert(_ points: [VectorPoint]) async throws {
        let labels = index.labels(for: points)
        try index.upsert(points, labels: labels)
    }

    public func delete(ids: [UUID]) async throws {
        index.delete(ids: ids)
    }

}

/// Registers the in-process approximate index under the name `hnsw`.
public enum ANNBackends {
    public static let name = "hnsw"

    public static func parameters(_ configuration: BackendConfiguration) throws -> ANNParameters {
        var parameters = ANNParameters()
        // Bounded: hnswlib takes these as unsigned sizes, so a negative one would make every search or
        // insertion walk the whole graph.
        parameters.exactThreshold = try configuration.int("SOMA_ANN_EXACT_THRESHOLD", default: parameters.exactThreshold, in: 0...1_000_000)
        parameters.efSearch = try configuration.int("SOMA_ANN_EF_SEARCH", default: parameters.efSearch, in: 1...10_000)
        parameters.efConstruction = try configuration.int("SOMA_ANN_EF_CONSTRUCTION", default: parameters.efConstruction, in: 1...10_000)
        let saveSeconds = try configuration.int("SOMA_ANN_SAVE_INTERVAL_S", default: 300, in: 0...86_400)
        parameters.saveInterval = saveSeconds == 0 ? nil : .seconds(saveSeconds)
        return parameters
    }

    /// The settings `parameters` reads.
    public static let settings = [
        SettingDescription("SOMA_ANN_EXACT_THRESHOLD", default: "256", "Namespace size up to which search is exact"),
        SettingDescription("SOMA_ANN_EF_SEARCH", default: "64", "HNSW search breadth"),
        SettingDescription("SOMA_ANN_EF_CONSTRUCTION", default: "64", "HNSW build breadth for vectors added from now on"),
        SettingDescription("SOMA_ANN_SAVE_INTERVAL_S", default: "300", "How often graphs kept in files are saved while vectors were merged into them (0: only at a clean stop)"),
    ]

    public static func register(into registry: inout BackendRegistry) {
        registry.registerVector(BackendDescription(name: name, settings: [.vectorDimension] + settings, location: { _ in "process memory" })) { configuration, _ in
            let vectors = InMemoryANNIndex(
                dimension: try configuration.int("SOMA_VECTOR_DIM", default: HashEmbedder.defaultDimension), parameters: try parameters(configuration))
            return Provisioned(vectors, services: [CloseAtShutdown { await vectors.index.stopMerging() }])
        }
    }
}
