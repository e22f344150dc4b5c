import Hummingbird
import Prometheus
import SomaCore
import Synchronization

/// Probes, metrics and the API description: open routes, no token needed.
struct OperationsRoutes {
    let engine: MemoryEngine
    let metrics: PrometheusCollectorRegistry
    let cachedHealth = HealthCache()

    /// The original service's health shape, plus the cache and bus. Every field is a probe:
    /// `graph_store` is the storage's (links live in it), `prediction_provider` the embedder's
    /// (the one model this service runs).
    struct Health: Encodable, Sendable {
        let kvStore: Bool
        let vectorStore: Bool
        let graphStore: Bool
        let predictionProvider: Bool
        let cache: Bool
        let eventBus: Bool
        /// `ok`; `degraded` when only the cache or bus is down (the service still answers);
        /// `unavailable` when storage or vectors are down.
        let status: String

        init(kvStore: Bool, vectorStore: Bool, embedder: Bool, cache: Bool, eventBus: Bool) {
            self.kvStore = kvStore
            self.vectorStore = vectorStore
            self.graphStore = kvStore
            self.predictionProvider = embedder
            self.cache = cache
            self.eventBus = eventBus
            status = !(kvStore && vectorStore) ? "unavailable" : (cache && eventBus && embedder) ? "ok" : "degraded"
        }

        enum CodingKeys: String, CodingKey {
            case kvStore = "kv_store", vectorStore = "vector_store", graphStore = "graph_store"
            case predictionProvider = "prediction_provider", cache, eventBus = "event_bus", status
        }

        /// Storage and vectors are required; without the cache or bus the service still answers.
        var requiredUp: Bool { kvStore && vectorStore }
    }

    /// Probes read a result at most a second old, so a busy prober never loads the backends.
    func health() async -> Health {
        if let recent = cachedHealth.recent() { return recent }
        let fresh = await checkHealth()
        cachedHealth.store(fresh)
        return fresh
    }

    func checkHealth() async -> Health {
        async let storage = engine.storage.isHealthy()
        async let vectors = engine.vectors.isHealthy()
        async let cache = engine.cache.isHealthy()
        async let bus = engine.bus.isHealthy()
        async let embedder = engine.embedder.isHealthy()
        return Health(kvStore: await storage, vectorStore: await vectors, embedder: await embedder, cache: await cache, eventBus: await bus)
    }

    /// The vector index's background work, read when scraped (the console's overview shows it).
    func recordIndexUpkeep() async {
        guard let upkeep = await engine.vectors.upkeep() else { return }
        metrics.makeGauge(descriptor: ServiceInfoMetrics.pendingVectors).set(to: Double(upkeep.pendingVectors))
        if let saved = upkeep.lastSave {
            metrics.makeGauge(descriptor: ServiceInfoMetrics.lastSave).set(to: saved.timeIntervalSince1970)
        }
    }

    func add(to router: Router<SomaRequestContext>, operationsOnly: Bool = false) {
        // Liveness answers 200 while the process serves: restarting it would not bring a database back.
        for path in ["health", "healthz"] {
            router.get(RouterPath(path)) { _, _ in try JSONResponse.make(await health()) }
        }
        router.get("readyz") { _, _ in
            let health = await health()
            return try JSONResponse.make(health, status: health.requiredUp ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            await recordIndexUpkeep()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        guard !operationsOnly else { return }
        // The original's root answer, which its clients and smoke checks read.
        router.get("/") { _, _ in try JSONResponse.make(["message": "SomaFractalMemory API is running", "metrics": "/metrics"]) }
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
        }
    }
}

final class HealthCache: Sendable {
    private let state = Mutex<(health: OperationsRoutes.Health, at: ContinuousClock.Instant)?>(nil)

    func recent() -> OperationsRoutes.Health? {
        state.withLock { cached in
            guard let cached, cached.at.duration(to: .now) < .seconds(1) else { return nil }
            return cached.health
        }
    }

    func store(_ health: OperationsRoutes.Health) {
        state.withLock { $0 = (health, .now) }
    }
}
