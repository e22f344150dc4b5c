import SomaANN
import SomaCore
import SomaEmbedders
import SomaInProcess
import SomaKafka
import SomaMiniLM
import SomaPostgres
import SomaQdrant
import SomaRedis
import SomaSQLite
import SomaService
import Synchronization

/// Every backend this binary was built with. Adding a backend is one line here (or, outside this
/// package, one `register` passed to `SomaCommandLine.main`): what it reads, when it is chosen and
/// where it connects come from its own registration.
public enum Backends {
    /// Registrations added by the program before the command runs.
    private static let extensions = Mutex<[@Sendable (inout BackendRegistry) -> Void]>([])

    static func extend(_ register: @escaping @Sendable (inout BackendRegistry) -> Void) {
        extensions.withLock { $0.append(register) }
    }

    /// Built on first use, after the program's own registrations were added.
    static let registry: BackendRegistry = {
        var registry = standard
        for register in extensions.withLock({ $0 }) { register(&registry) }
        return registry
    }()

    /// The backends built into this package.
    public static var standard: BackendRegistry {
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        SQLiteBackends.register(into: &registry)
        ANNBackends.register(into: &registry)
        RedisBackends.register(into: &registry)
        PostgresBackends.register(into: &registry)
        QdrantBackends.register(into: &registry)
        KafkaBackends.register(into: &registry)
        EmbedderBackends.register(into: &registry)
        MiniLMBackends.register(into: &registry)
        return registry
    }

    static let catalogue = SettingCatalogue(registry: registry)
}
