import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import SomaCore

/// Assembles the HTTP application: middleware in order, then the routes of both API surfaces.
public enum SomaApplication {
    public static func router(engine: MemoryEngine, settings: ServiceSettings) -> Router<SomaRequestContext> {
        let router = Router(context: SomaRequestContext.self)
        router.add(middleware: ResponseMiddleware(backends: engine.options.backendNames))
        if !settings.corsOrigins.isEmpty {
            let origins = settings.corsOrigins
            router.add(
                middleware: CORSMiddleware(
                    allowOrigin: origins.contains("*") ? .all : .custom(origins.joined(separator: ", ")),
                    allowHeaders: [.authorization, .contentType, AuthMiddleware.namespaceHeader, ResponseMiddleware.requestIDHeader],
                    allowMethods: [.get, .post, .patch, .delete, .options]))
        }
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: OriginalMetricsMiddleware(registry: MetricsBootstrap.registry))
        router.add(middleware: AuthMiddleware(tokens: settings.tokens, defaultNamespace: settings.defaultNamespace))
        router.add(middleware: RateLimitMiddleware(policy: settings.rateLimit, cache: engine.cache))
        let env = RouteEnvironment(engine: engine, body: JSONBody(maxBytes: settings.maxBodyBytes, maxDepth: settings.maxJSONDepth))
        OperationsRoutes(engine: engine, metrics: MetricsBootstrap.registry).add(to: router)
        V1Routes(env: env).add(to: router)
        LegacyRoutes(env: env, hybridByDefault: settings.hybridRecallDefault).add(to: router)
        MCPRoute(env: env).add(to: router)
        if settings.consoleEnabled { ConsoleRoutes().add(to: router) }
        return router
    }

    /// What the consumer pod runs: the consumer, and the repair of indexing that failed.
    public static func consumerServices(engine: MemoryEngine, settings: ServiceSettings, logger: Logger) -> [any Service] {
        [
            ConsumerService(engine: engine, group: settings.consumerGroup, policy: settings.consumer, logger: logger),
            PeriodicService.indexRepair(engine, every: settings.repairInterval, logger: logger),
        ]
    }

    /// Probes and metrics only: the consumer pod's HTTP surface.
    public static func operationsRouter(engine: MemoryEngine) -> Router<SomaRequestContext> {
        let router = Router(context: SomaRequestContext.self)
        router.add(middleware: ResponseMiddleware(backends: engine.options.backendNames))
        router.add(middleware: MetricsMiddleware())
        OperationsRoutes(engine: engine, metrics: MetricsBootstrap.registry).add(to: router, operationsOnly: true)
        return router
    }

    /// The application with its background services: the outbox relay, the expiry sweeper, and
    /// where this process indexes, its consumer and the index repair.
    public static func application(
        engine: MemoryEngine, settings: ServiceSettings, logger: Logger
    ) -> some ApplicationProtocol {
        let plan = IndexingPlan(settings, bus: engine.bus)
        logger.info("indexing", metadata: ["who": .string("\(plan)")])
        var services: [any Service] = [
            PeriodicService.expirySweep(engine, every: settings.sweepInterval, logger: logger),
            PeriodicService.outboxRelay(outboxRelay(engine: engine, plan: plan), logger: logger),
        ]
        if plan.indexer == .thisProcess {
            services.append(ConsumerService(engine: engine, group: "soma-indexer", policy: settings.consumer, logger: logger))
        }
        if plan.repairsHere {
            services.append(PeriodicService.indexRepair(engine, every: settings.repairInterval, logger: logger))
        }
        return Application(
            router: router(engine: engine, settings: settings),
            server: httpServer(settings),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "soma"),
            services: services,
            logger: logger)
    }

    /// HTTP/1.1 with the idle timeout: it closes idle keep-alive connections and requests stalled
    /// in their headers or body alike (Hummingbird keeps one timer per connection for both).
    public static func httpServer(_ settings: ServiceSettings) -> HTTPServerBuilder {
        .http1(configuration: .init(idleTimeout: .nanoseconds(settings.idleTimeout.components.seconds * 1_000_000_000)))
    }

    /// Drains the outbox: to the bus, or nowhere when the plan publishes nothing (the outbox must not grow).
    static func outboxRelay(engine: MemoryEngine, plan: IndexingPlan) -> OutboxRelay {
        OutboxRelay(storage: engine.storage, bus: plan.publishesEvents ? engine.bus : DiscardedEvents())
    }
}

/// The bus of a service with eventing off: events leave the outbox and go nowhere.
struct DiscardedEvents: EventBus {
    func publish(_ events: [MemoryEvent]) async throws {}
    func subscribe(group: String, consumer: String) async throws -> any EventSubscription { Nothing() }
    func isHealthy() async -> Bool { true }

    struct Nothing: EventSubscription {
        func next(timeout: Duration) async throws -> EventDelivery? {
            try await Task.sleep(for: timeout)
            return nil
        }
        func acknowledge(_ delivery: EventDelivery) async throws {}
        func reject(_ delivery: EventDelivery) async throws {}
        func deadLetter(_ delivery: EventDelivery, reason: String) async throws {}
    }
}
