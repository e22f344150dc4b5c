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

/// Every backend this binary was built with. Adding a backend is one line here: what it reads,
/// when it is chosen and where it connects come from its own registration.
enum Backends {
    static let registry: BackendRegistry = {
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
    }()

    static let catalogue = SettingCatalogue(registry: registry)
}
