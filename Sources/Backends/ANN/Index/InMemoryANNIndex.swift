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

    // Bounded: hnswlib takes these as unsigned sizes, so a negative one would make every search or
    // insertion walk the whole graph.
    static let exactThreshold = Setting<Int>(
        "SOMA_ANN_EXACT_THRESHOLD", default: ANNParameters().exactThreshold, in: 0...1_000_000, "Namespace size up to which search is exact")
    static let efSearch = Setting<Int>("SOMA_ANN_EF_SEARCH", default: ANNParameters().efSearch, in: 1...10_000, "HNSW search breadth")
    static let efConstruction = Setting<Int>(
        "SOMA_ANN_EF_CONSTRUCTION", default: ANNParameters().efConstruction, in: 1...10_000, "HNSW build breadth for vectors added from now on")
    static let saveInterval = Setting<Int>(
        "SOMA_ANN_SAVE_INTERVAL_S", default: 300, in: 0...86_400,
        "How often graphs kept in files are saved while vectors were merged into them (0: only at a clean stop)")

    /// A vector index in process fails to start for one reason an operator can fix.
    public static let diagnosis = "the index holds another model's vectors: run `soma reindex`, or configure the model it was built with"

    /// The settings `parameters` reads.
    public static let settings: [any DeclaredSetting] = [exactThreshold, efSearch, efConstruction, saveInterval]

    public static func parameters(_ configuration: BackendConfiguration) throws -> ANNParameters {
        var parameters = ANNParameters()
        parameters.exactThreshold = try configuration.value(exactThreshold)
        parameters.efSearch = try configuration.value(efSearch)
        parameters.efConstruction = try configuration.value(efConstruction)
        let saveSeconds = try configuration.value(saveInterval)
        parameters.saveInterval = saveSeconds == 0 ? nil : .seconds(saveSeconds)
        return parameters
    }

    public static func register(into registry: inout BackendRegistry) {
        registry.registerVector(
            BackendDescription(
                name: name, settings: [SharedSettings.vectorDimension] + settings, diagnosis: diagnosis, location: { _ in "process memory" })
        ) { configuration, _ in
            let vectors = InMemoryANNIndex(
                dimension: try configuration.value(SharedSettings.vectorDimension), parameters: try parameters(configuration))
            return Provisioned(vectors, services: [CloseAtShutdown { await vectors.index.stopMerging() }])
        }
    }
}
