import SomaANN
import SomaCore
import SomaInProcess
import SomaSQLite
import SomaService
import Synchronization

// The optional backends, each behind its package trait (Package.swift).
#if OpenAIEmbedder
import SomaEmbedders
#endif
#if Kafka
import SomaKafka
#endif
#if MiniLM
import SomaMiniLM
#endif
#if Postgres
import SomaPostgres
#endif
#if Qdrant
import SomaQdrant
#endif
#if Redis
import SomaRedis
#endif

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
        #if Redis
        RedisBackends.register(into: &registry)
        #endif
        #if Postgres
        PostgresBackends.register(into: &registry)
        #endif
        #if Qdrant
        QdrantBackends.register(into: &registry)
        #endif
        #if Kafka
        KafkaBackends.register(into: &registry)
        #endif
        #if OpenAIEmbedder
        EmbedderBackends.register(into: &registry)
        #endif
        #if MiniLM
        MiniLMBackends.register(into: &registry)
        #endif
        return registry
    }

    static let catalogue = SettingCatalogue(registry: registry)
}
