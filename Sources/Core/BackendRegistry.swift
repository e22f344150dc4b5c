import Foundation

/// The capabilities a backend can provide.
public enum Capability: String, Sendable, CaseIterable, CustomStringConvertible {
    case storage, cache, vector, bus, embedder
    public var description: String { rawValue }
}

/// Settings a backend factory reads, by the service's variable names (`REDIS_URL`, `SOMA_VECTOR_DIM`).
/// The service backs it with its configuration reader; tests back it with a dictionary.
public struct BackendConfiguration: Sendable {
    private let lookup: @Sendable (String) -> String?

    public init(lookup: @escaping @Sendable (String) -> String?) {
        self.lookup = lookup
    }

    public init(_ values: [String: String]) {
        self.lookup = { values[$0] }
    }

    public func string(_ name: String) -> String? {
        guard let value = lookup(name), !value.isEmpty else { return nil }
        return value
    }

    /// These values in place of the configured ones (the index generation the service found in storage).
    public func overriding(_ values: [String: String]) -> BackendConfiguration {
        let lookup = lookup
        return BackendConfiguration { values[$0] ?? lookup($0) }
    }

    /// A vector collection's or table's name for the index generation the service found in storage:
    /// the configured name for generation 0, `<name>_g<N>` for the ones `soma reindex` builds.
    public func vectorCollection(_ base: String) throws -> String {
        let generation = try int(EmbeddingState.generationSetting, default: 0)
        return generation == 0 ? base : "\(base)_g\(generation)"
    }

    public func int(_ name: String, default fallback: Int) throws -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw BackendError.invalidSetting(name: name, reason: "expected an integer, got '\(text)'")
        }
        return value
    }

    /// An integer that must lie in `range`: a setting outside it fails start-up with its name.
    public func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        let value = try int(name, default: fallback)
        guard range.contains(value) else {
            throw BackendError.invalidSetting(name: name, reason: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    public func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let text = string(name)?.lowercased() else { return fallback }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw BackendError.invalidSetting(name: name, reason: "expected true or false, got '\(text)'")
        }
    }
}

public enum BackendError: Error, Equatable, CustomStringConvertible {
    case unknownBackend(capability: Capability, name: String, known: [String])
    case invalidSetting(name: String, reason: String)
    case dimensionMismatch(expected: Int, actual: Int)
    /// The backend did not answer or refused the operation; the reason holds no secrets.
    case unreachable(backend: String, reason: String)
    /// The index holds vectors of one model and the service is configured for another.
    case embeddingModelChanged(indexed: String, configured: String)

    public var description: String {
        switch self {
        case .unknownBackend(let capability, let name, let known):
            "unknown \(capability) backend '\(name)'; this build knows: \(known.joined(separator: ", "))"
        case .invalidSetting(let name, let reason):
            "invalid setting \(name): \(reason)"
        case .dimensionMismatch(let expected, let actual):
            "vector dimension mismatch: the index holds \(actual)-dimensional vectors, the embedder makes \(expected)"
        case .unreachable(let backend, let reason):
            "\(backend): \(reason)"
        case .embeddingModelChanged(let indexed, let configured):
            "the vector index holds embeddings of model '\(indexed)', and this service is configured for '\(configured)'; "
                + "vectors of two models cannot share an index. To change models, run `soma reindex` with the new configuration "
                + "(it re-embeds every memory into a new index and switches over when done), then start the service again; "
                + "to keep the old model, configure the embedder that makes '\(indexed)'"
        }
    }
}

/// Maps (capability, name) to a factory. `soma` registers every backend it was built with at
/// start-up; configuration then picks one name per capability. A backend target adds one
/// `register` call and nothing else changes.
public struct BackendRegistry: Sendable {
    public typealias StorageFactory = @Sendable (BackendConfiguration) async throws -> any MemoryStorage
    public typealias CacheFactory = @Sendable (BackendConfiguration) async throws -> any MemoryCache
    /// A vector backend may reuse the storage it runs beside (its own tables, its own pool).
    public typealias VectorFactory = @Sendable (BackendConfiguration, any MemoryStorage) async throws -> any VectorIndex
    public typealias BusFactory = @Sendable (BackendConfiguration) async throws -> any EventBus
    public typealias EmbedderFactory = @Sendable (BackendConfiguration) async throws -> any Embedder

    private var storages: [String: StorageFactory] = [:]
    private var caches: [String: CacheFactory] = [:]
    private var vectors: [String: VectorFactory] = [:]
    private var buses: [String: BusFactory] = [:]
    private var embedders: [String: EmbedderFactory] = [:]

    public init() {}

    public mutating func registerStorage(_ name: String, _ factory: @escaping StorageFactory) { storages[name] = factory }
    public mutating func registerCache(_ name: String, _ factory: @escaping CacheFactory) { caches[name] = factory }
    public mutating func registerVector(_ name: String, _ factory: @escaping VectorFactory) { vectors[name] = factory }
    public mutating func registerBus(_ name: String, _ factory: @escaping BusFactory) { buses[name] = factory }
    public mutating func registerEmbedder(_ name: String, _ factory: @escaping EmbedderFactory) { embedders[name] = factory }

    public func names(_ capability: Capability) -> [String] {
        switch capability {
        case .storage: return storages.keys.sorted()
        case .cache: return caches.keys.sorted()
        case .vector: return vectors.keys.sorted()
        case .bus: return buses.keys.sorted()
        case .embedder: return embedders.keys.sorted()
        }
    }

    public func has(_ capability: Capability, _ name: String) -> Bool {
        names(capability).contains(name)
    }

    public func makeStorage(_ name: String, _ configuration: BackendConfiguration) async throws -> any MemoryStorage {
        try await factory(storages, .storage, name)(configuration)
    }

    public func makeCache(_ name: String, _ configuration: BackendConfiguration) async throws -> any MemoryCache {
        try await factory(caches, .cache, name)(configuration)
    }

    public func makeVector(_ name: String, _ configuration: BackendConfiguration, storage: any MemoryStorage) async throws -> any VectorIndex {
        try await factory(vectors, .vector, name)(configuration, storage)
    }

    public func makeBus(_ name: String, _ configuration: BackendConfiguration) async throws -> any EventBus {
        try await factory(buses, .bus, name)(configuration)
    }

    public func makeEmbedder(_ name: String, _ configuration: BackendConfiguration) async throws -> any Embedder {
        try await factory(embedders, .embedder, name)(configuration)
    }

    private func factory<F>(_ table: [String: F], _ capability: Capability, _ name: String) throws -> F {
        guard let factory = table[name] else {
            throw BackendError.unknownBackend(capability: capability, name: name, known: table.keys.sorted())
        }
        return factory
    }
}
