import Logging
import ServiceLifecycle

/// What a backend factory returns: the backend, the long-running services it needs (a connection
/// pool, a save loop), and a check that needs those services running (a connection probe,
/// migrations). A backend that needs nothing running returns `Provisioned(backend)`.
public struct Provisioned<Backend: Sendable>: Sendable {
    public let backend: Backend
    public let services: [any Service]
    public let ready: @Sendable () async throws -> Void

    public init(_ backend: Backend, services: [any Service] = [], ready: @escaping @Sendable () async throws -> Void = {}) {
        self.backend = backend
        self.services = services
        self.ready = ready
    }

    /// The same services and check around what `transform` makes of the backend.
    public func map<Other>(_ transform: (Backend) throws -> Other) rethrows -> Provisioned<Other> {
        Provisioned<Other>(try transform(backend), services: services, ready: ready)
    }
}

/// One `ServiceGroup` for a process's backends and, last, its server: each backend's services start
/// as the backend is built (assembly itself queries storage), and a graceful shutdown (SIGTERM)
/// stops the server first, then the backends in reverse order of their start.
public final class BackendLifetime: Sendable {
    private let group: ServiceGroup
    private let logger: Logger

    private init(group: ServiceGroup, logger: Logger) {
        self.group = group
        self.logger = logger
    }

    /// Starts the backend's services under this lifetime and returns the backend once it is ready.
    public func start<Backend>(_ provisioned: Provisioned<Backend>, name: String) async throws -> Backend {
        for service in provisioned.services {
            await group.addServiceUnlessShutdown(LoggedService(service, name: name, logger: logger))
        }
        try await provisioned.ready()
        return provisioned.backend
    }

    /// Builds what `build` returns (the server) with backends started under this lifetime, runs it
    /// last, and returns when a signal has shut everything down.
    public static func serve(
        grace: Duration, logger: Logger, _ build: @escaping @Sendable (BackendLifetime) async throws -> any Service
    ) async throws {
        try await run(grace: grace, logger: logger) { lifetime in ((), try await build(lifetime)) }
    }

    /// Runs `body` (a one-off job) with backends started under this lifetime, then shuts them down.
    public static func during<T: Sendable>(
        grace: Duration = .seconds(10), logger: Logger, _ body: @escaping @Sendable (BackendLifetime) async throws -> T
    ) async throws -> T {
        try await run(grace: grace, logger: logger) { lifetime in (try await body(lifetime), nil) }
    }

    private enum Outcome<Value: Sendable>: Sendable {
        case groupEnded
        case built(Value)
    }

    private static func run<T: Sendable>(
        grace: Duration, logger: Logger, _ body: @escaping @Sendable (BackendLifetime) async throws -> (T, (any Service)?)
    ) async throws -> T {
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: Anchor())], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A stop that outlasts the grace escalates to cancellation, and a cancellation ignored for
        // 5 s ends the run: a pod told to stop must not hang until Kubernetes kills it.
        configuration.maximumGracefulShutdownDuration = grace
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        let lifetime = BackendLifetime(group: group, logger: logger)
        return try await withThrowingTaskGroup(of: Outcome<T>.self) { tasks in
            tasks.addTask {
                try await group.run()
                return .groupEnded
            }
            tasks.addTask {
                do {
                    let (value, last) = try await body(lifetime)
                    if let last {
                        await group.addServiceUnlessShutdown(LoggedService(last, name: "server", logger: logger))
                    } else {
                        await group.triggerGracefulShutdown()
                    }
                    return .built(value)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
            }
            var value: T?
            var failure: (any Error)?
            while let result = await tasks.nextResult() {
                switch result {
                case .success(.groupEnded):
                    // Stopped (a signal, a failed service) while still building: what is being
                    // built cannot be used without its services.
                    tasks.cancelAll()
                case .success(.built(let built)):
                    value = built
                case .failure(let error):
                    if failure == nil { failure = error }
                }
            }
            if let failure { throw failure }
            guard let value else { throw CancellationError() }
            return value
        }
    }

    /// The group's first service, so that it runs (and stops last) before any backend is added.
    private struct Anchor: Service {
        func run() async throws {
            try? await gracefulShutdown()
        }
    }
}

/// A service whose start and end are logged by the backend's name, so the order of a shutdown can be read.
struct LoggedService: Service, CustomStringConvertible {
    let service: any Service
    let name: String
    let logger: Logger

    init(_ service: any Service, name: String, logger: Logger) {
        self.service = service
        self.name = name
        self.logger = logger
    }

    var description: String { "\(name): \(type(of: service))" }

    func run() async throws {
        logger.debug("service started", metadata: ["service": .string(description)])
        defer { logger.info("service stopped", metadata: ["service": .string(description)]) }
        try await service.run()
    }
}

/// A service that holds nothing open itself: at the shutdown (or a cancellation) it runs `close`,
/// the end of something a backend opened when it was built (a pool's connections, a thread).
public struct CloseAtShutdown: Service {
    private let close: @Sendable () async -> Void

    public init(_ close: @escaping @Sendable () async -> Void) {
        self.close = close
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
