import Foundation

/// The capabilities a backend can provide.
public enum Capability: String, Sendable, CaseIterable, CustomStringConvertible {
    case storage, cache, vector, bus, embedder
    public var description: String { rawValue }

    /// The setting that names this capability's backend: `SOMA_STORAGE`, `SOMA_CACHE`, ...
    public var selectionSetting: String { "SOMA_\(rawValue.uppercased())" }
}

public enum BackendError: Error, Equatable, CustomStringConvertible {
    case unknownBackend(capability: Capability, name: String, known: [String])
    case invalidSetting(name: String, reason: String)
    case dimensionMismatch(expected: Int, actual: Int)
    /// The backend did not answer or refused the operation; the reason holds no secrets.
    case unreachable(backend: String, reason: String)
    /// The database answers but its schema lacks these migrations (and they were not to be applied).
    case migrationsMissing(backend: String, versions: [String], remedy: String)
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
        case .migrationsMissing(let backend, let versions, let remedy):
            "\(backend): the schema lacks migrations \(versions.joined(separator: ", ")); \(remedy)"
        case .embeddingModelChanged(let indexed, let configured):
            "the vector index holds embeddings of model '\(indexed)', and this service is configured for '\(configured)'; "
                + "vectors of two models cannot share an index. To change models, run `soma reindex` with the new configuration "
                + "(it re-embeds every memory into a new index and switches over when done), then start the service again; "
                + "to keep the old model, configure the embedder that makes '\(indexed)'"
        }
    }
}

/// Another process holds what a backend needs for itself alone (the embedded default's data
/// directory): the opener stops at once, naming the holder, instead of sharing it unsafely.
public struct HeldByAnotherProcess: Error, Sendable, Equatable, CustomStringConvertible {
    public let resource: String
    /// The holder's process id, when it could be read.
    public let holder: Int32?
    public let remedy: String

    public init(resource: String, holder: Int32?, remedy: String) {
        self.resource = resource
        self.holder = holder
        self.remedy = remedy
    }

    public var description: String {
        "\(resource) is in use by \(holder.map { "process \($0)" } ?? "another process") (a running soma serve, consume or mcp --local): \(remedy)"
    }
}

/// When a backend is chosen for its capability without `SOMA_<CAPABILITY>` naming it: the highest
/// priority whose condition holds wins (a capability's fallback holds always, at the lowest).
public struct AutomaticChoice: Sendable {
    public let priority: Int
    /// Why, as the start-up log says it: "POSTGRES_URL is set".
    public let reason: String
    /// Given the settings and the backends chosen so far (storage is chosen first).
    let holds: @Sendable (BackendConfiguration, [Capability: String]) -> Bool

    public init(priority: Int, when reason: String, _ holds: @escaping @Sendable (BackendConfiguration, [Capability: String]) -> Bool) {
        self.priority = priority
        self.reason = reason
        self.holds = holds
    }

    /// Chosen when one of these settings is set.
    public static func whenSet(_ settings: any DeclaredSetting..., priority: Int = 100) -> AutomaticChoice {
        let names = settings.map(\.described.name)
        return AutomaticChoice(priority: priority, when: "\(names.joined(separator: " or ")) is set") { configuration, _ in
            names.contains { configuration.string($0) != nil }
        }
    }

    /// Chosen when nothing of higher priority holds.
    public static func fallback(priority: Int = 0, _ reason: String) -> AutomaticChoice {
        AutomaticChoice(priority: priority, when: reason) { _, _ in true }
    }
}

/// A backend as it registers itself: its name, the settings it reads, when it is chosen without
/// being named, and where it keeps its data (for the start-up log, credentials redacted).
public struct BackendDescription: Sendable {
    public let name: String
    public let settings: [SettingDescription]
    public let automatic: [AutomaticChoice]
    public let location: @Sendable (BackendConfiguration) -> String
    /// What an operator should check when the backend cannot be built or does not answer: `soma
    /// doctor` prints it under the failed check.
    public let diagnosis: String

    public init(
        name: String, settings: [any DeclaredSetting] = [], automatic: [AutomaticChoice] = [],
        diagnosis: String? = nil, location: @escaping @Sendable (BackendConfiguration) -> String = { _ in "configured" }
    ) {
        self.name = name
        self.settings = settings.map(\.described)
        self.automatic = automatic
        self.location = location
        self.diagnosis =
            diagnosis
            ?? "check its settings: \(settings.map(\.described.name).joined(separator: ", ")) (`soma config --describe` says what each means)"
    }

    /// Reads `setting`: the service checks what such a backend needs (a data directory) by this, not by its name.
    public func reads(_ setting: any DeclaredSetting) -> Bool {
        settings.contains { $0.name == setting.described.name }
    }
}

/// The backend chosen for a capability, and why.
public struct ChosenBackend: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    public var description: String { name }
}

/// Maps (capability, name) to a factory and the backend's description. `soma` registers every
/// backend it was built with at start-up; configuration then picks one name per capability. A
/// backend target adds one `register` call; everything the service lists about backends (settings,
/// secrets, automatic choice, where each connects) comes from what they register.
public struct BackendRegistry: Sendable {
    public typealias StorageFactory = @Sendable (BackendConfiguration) async throws -> Provisioned<any MemoryStorage>
    public typealias CacheFactory = @Sendable (BackendConfiguration) async throws -> Provisioned<any MemoryCache>
    /// A vector backend may reuse the storage it runs beside (its own tables, its own pool).
    public typealias VectorFactory = @Sendable (BackendConfiguration, any MemoryStorage) async throws -> Provisioned<any VectorIndex>
    public typealias BusFactory = @Sendable (BackendConfiguration) async throws -> Provisioned<any EventBus>
    public typealias EmbedderFactory = @Sendable (BackendConfiguration) async throws -> Provisioned<any Embedder>

    /// One registered backend: its description and its factory.
    private struct Entry: Sendable {
        enum Factory: Sendable {
            case storage(StorageFactory), cache(CacheFactory), vector(VectorFactory), bus(BusFactory), embedder(EmbedderFactory)
        }

        let capability: Capability
        let description: BackendDescription
        let factory: Factory
    }

    /// In registration order, so listings are stable.
    private var entries: [Entry] = []

    public init() {}

    public mutating func registerStorage(_ description: BackendDescription, _ factory: @escaping StorageFactory) {
        add(Entry(capability: .storage, description: description, factory: .storage(factory)))
    }

    public mutating func registerCache(_ description: BackendDescription, _ factory: @escaping CacheFactory) {
        add(Entry(capability: .cache, description: description, factory: .cache(factory)))
    }

    public mutating func registerVector(_ description: BackendDescription, _ factory: @escaping VectorFactory) {
        add(Entry(capability: .vector, description: description, factory: .vector(factory)))
    }

    public mutating func registerBus(_ description: BackendDescription, _ factory: @escaping BusFactory) {
        add(Entry(capability: .bus, description: description, factory: .bus(factory)))
    }

    public mutating func registerEmbedder(_ description: BackendDescription, _ factory: @escaping EmbedderFactory) {
        add(Entry(capability: .embedder, description: description, factory: .embedder(factory)))
    }

    /// A later registration of the same name replaces the earlier one.
    private mutating func add(_ entry: Entry) {
        entries.removeAll { $0.capability == entry.capability && $0.description.name == entry.description.name }
        entries.append(entry)
    }

    public func names(_ capability: Capability) -> [String] {
        entries.filter { $0.capability == capability }.map(\.description.name).sorted()
    }

    public func has(_ capability: Capability, _ name: String) -> Bool {
        names(capability).contains(name)
    }

    public func description(_ capability: Capability, _ name: String) -> BackendDescription? {
        entry(capability, name)?.description
    }

    /// Every setting the registered backends read, each once (the first declaration's words).
    public var settings: [SettingDescription] {
        var seen: Set<String> = []
        return entries.flatMap(\.description.settings).filter { seen.insert($0.name).inserted }
    }

    /// One backend per capability: the one `named` gives, else the registered backend whose
    /// automatic choice holds with the highest priority. Storage is chosen first, so a vector
    /// backend can follow it (pgvector beside PostgreSQL).
    public func choose(named: [Capability: String], _ configuration: BackendConfiguration) throws -> [Capability: ChosenBackend] {
        var chosen: [Capability: ChosenBackend] = [:]
        for capability in Capability.allCases {
            if let name = named[capability] {
                guard has(capability, name) else {
                    throw BackendError.unknownBackend(capability: capability, name: name, known: names(capability))
                }
                chosen[capability] = ChosenBackend(name: name, reason: "\(capability.selectionSetting) names it")
                continue
            }
            let names = chosen.mapValues(\.name)
            let candidates = entries.filter { $0.capability == capability }.flatMap { entry in
                entry.description.automatic.filter { $0.holds(configuration, names) }.map { (name: entry.description.name, rule: $0) }
            }
            guard let best = candidates.max(by: { ($0.rule.priority, $1.name) < ($1.rule.priority, $0.name) }) else {
                throw BackendError.invalidSetting(
                    name: capability.selectionSetting,
                    reason: "no registered \(capability) backend is chosen by itself; name one of: \(self.names(capability).joined(separator: ", "))")
            }
            chosen[capability] = ChosenBackend(name: best.name, reason: best.rule.reason)
        }
        return chosen
    }

    private func entry(_ capability: Capability, _ name: String) -> Entry? {
        entries.first { $0.capability == capability && $0.description.name == name }
    }

    private func factory(_ capability: Capability, _ name: String) throws -> Entry.Factory {
        guard let entry = entry(capability, name) else {
            throw BackendError.unknownBackend(capability: capability, name: name, known: names(capability))
        }
        return entry.factory
    }

    /// Each `make` builds the named backend and starts its services under `lifetime`.
    public func makeStorage(_ name: String, _ configuration: BackendConfiguration, in lifetime: BackendLifetime) async throws -> any MemoryStorage {
        guard case .storage(let make) = try factory(.storage, name) else { preconditionFailure("registered under storage") }
        return try await lifetime.start(make(configuration), name: "storage \(name)")
    }

    public func makeCache(_ name: String, _ configuration: BackendConfiguration, in lifetime: BackendLifetime) async throws -> any MemoryCache {
        guard case .cache(let make) = try factory(.cache, name) else { preconditionFailure("registered under cache") }
        return try await lifetime.start(make(configuration), name: "cache \(name)")
    }

    public func makeVector(
        _ name: String, _ configuration: BackendConfiguration, storage: any MemoryStorage, in lifetime: BackendLifetime
    ) async throws -> any VectorIndex {
        guard case .vector(let make) = try factory(.vector, name) else { preconditionFailure("registered under vector") }
        return try await lifetime.start(make(configuration, storage), name: "vector \(name)")
    }

    public func makeBus(_ name: String, _ configuration: BackendConfiguration, in lifetime: BackendLifetime) async throws -> any EventBus {
        guard case .bus(let make) = try factory(.bus, name) else { preconditionFailure("registered under bus") }
        return try await lifetime.start(make(configuration), name: "bus \(name)")
    }

    public func makeEmbedder(_ name: String, _ configuration: BackendConfiguration, in lifetime: BackendLifetime) async throws -> any Embedder {
        guard case .embedder(let make) = try factory(.embedder, name) else { preconditionFailure("registered under embedder") }
        return try await lifetime.start(make(configuration), name: "embedder \(name)")
    }
}
