import SomaCore

/// Which backend serves each capability: the one `SOMA_<CAPABILITY>` names, else the one the
/// registered backends' own automatic choices pick from the settings (PostgreSQL when
/// `POSTGRES_URL` is set, and so on: each backend says when in its target). A name this build
/// does not know fails start-up, listing the names it knows.
public struct BackendChoice: Sendable {
    public var named: [Capability: String] = [:]
    /// The settings the automatic choices read.
    var configuration = BackendConfiguration([:])

    public init(storage: String? = nil, cache: String? = nil, vector: String? = nil, bus: String? = nil, embedder: String? = nil) {
        named = [.storage: storage, .cache: cache, .vector: vector, .bus: bus, .embedder: embedder].compactMapValues { $0 }
    }

    static func read(_ configuration: BackendConfiguration) -> BackendChoice {
        var choice = BackendChoice()
        for capability in Capability.allCases {
            choice.named[capability] = configuration.string(capability.selectionSetting)
        }
        choice.configuration = configuration
        return choice
    }

    /// The backends to build and why each, against what this build registered.
    public func chosen(in registry: BackendRegistry) throws -> [Capability: ChosenBackend] {
        try registry.choose(named: named, configuration)
    }

    public func resolved(in registry: BackendRegistry) throws -> [Capability: String] {
        try chosen(in: registry).mapValues(\.name)
    }
}
