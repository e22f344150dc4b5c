import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SomaCore
import SomaService

/// Options every server command shares.
struct ServerOptions: ParsableArguments {
    @Option(help: "Configuration file (YAML or JSON) with lower-case setting names, e.g. soma_port: 9595.")
    var config: String?

    @Option(help: "Address to listen on (SOMA_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (SOMA_PORT, default 9595).")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Data directory for embedded backends (SOMA_DATA_DIR, default ./data).")
    var dataDirectory: String?

    var flags: [String: String] {
        var flags: [String: String] = [:]
        if let host { flags[ServiceSetting.host.name] = host }
        if let port { flags[ServiceSetting.port.name] = String(port) }
        if let dataDirectory { flags[ServiceSetting.dataDirectory.name] = dataDirectory }
        return flags
    }

    func load() async throws -> (SettingsSource, ServiceSettings) {
        let source = try await SettingsSource.load(flags: flags, file: config, catalogue: Backends.catalogue)
        return (source, try ServiceSettings.read(source))
    }

    /// Reads the settings and sets up logging; any failure is one clear line.
    /// `exposed`: the process serves the API, so it must not listen off loopback without a token.
    /// `adjust` changes settings a command needs otherwise (a one-off job indexes as it writes).
    /// `logToStandardError`: standard output carries a protocol (`soma mcp --local`).
    func start(
        label: String, exposed: Bool, logToStandardError: Bool = false, adjust: (inout ServiceSettings) -> Void = { _ in }
    ) async throws -> Started {
        let (source, settings): (SettingsSource, ServiceSettings)
        do {
            var loaded: ServiceSettings
            (source, loaded) = try await load()
            adjust(&loaded)
            settings = loaded
            if exposed { try settings.checkExposure() }
        } catch {
            throw PlainFailure.startup("\(error)")
        }
        LoggingSystem.bootstrap { label in
            var handler = logToStandardError ? StreamLogHandler.standardError(label: label) : StreamLogHandler.standardOutput(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        return Started(source: source, settings: settings, logger: Logger(label: label))
    }

    /// Runs a one-off job with the engine; its backends stop when the job returns.
    func withEngine<T: Sendable>(
        label: String, logToStandardError: Bool = false, adjust: (inout ServiceSettings) -> Void = { _ in },
        _ job: @escaping @Sendable (Started, MemoryEngine, BackendLifetime) async throws -> T
    ) async throws -> T {
        let started = try await start(label: label, exposed: false, logToStandardError: logToStandardError, adjust: adjust)
        return try await BackendLifetime.during(grace: started.settings.shutdownGrace, logger: started.logger) { lifetime in
            try await job(started, try await started.engine(in: lifetime), lifetime)
        }
    }
}

/// Settings read and logging set up; what a command builds its engine from.
struct Started: Sendable {
    let source: SettingsSource
    let settings: ServiceSettings
    let logger: Logger

    /// The engine, its backends' services started under `lifetime`; a failure is one clear line.
    func engine(in lifetime: BackendLifetime) async throws -> MemoryEngine {
        do {
            return try await EngineAssembly.build(registry: Backends.registry, source: source, settings: settings, logger: logger, in: lifetime)
        } catch {
            throw PlainFailure.startup("\(error)")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API (the default command).")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let started = try await options.start(label: "soma", exposed: true)
        let (settings, logger) = (started.settings, started.logger)
        // The backends start first and stop last: SIGTERM drains the server, then stops them in
        // reverse order (the vector index saves its graphs on the way).
        do {
            try await BackendLifetime.serve(grace: settings.shutdownGrace, logger: logger) { lifetime in
                let engine = try await started.engine(in: lifetime)
                if settings.tokens.isEmpty {
                    logger.warning("no API token configured: the API is open, so it listens on loopback only (\(settings.host))")
                }
                logger.info("listening", metadata: ["host": .string(settings.host), "port": .stringConvertible(settings.port)])
                return SomaApplication.application(engine: engine, settings: settings, logger: logger)
            }
        } catch {
            throw PlainFailure.listening(host: settings.host, port: settings.port, error) ?? error
        }
        logger.info("stopped")
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    static let value = "0.1.0"

    func run() {
        print("soma \(Self.value)")
    }
}

struct ShowConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Print the effective configuration, secrets redacted.")

    @OptionGroup var options: ServerOptions

    @Flag(help: "Print only the names of every setting the service and its backends read.")
    var names = false

    @Flag(help: "Print every setting with its default and meaning, as the service and each backend declare them.")
    var describe = false

    func run() async throws {
        if names {
            Backends.catalogue.names.forEach { print($0) }
            return
        }
        if describe {
            ConfigListing.described(Backends.catalogue).forEach { print($0) }
            return
        }
        let (source, settings) = try await options.load()
        ConfigListing.effective(Backends.catalogue, source, chosen: try settings.backends.chosen(in: Backends.registry)).forEach { print($0) }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the storage backend's schema migrations, then exit.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let (source, settings) = try await options.load()
        let name = try settings.backends.resolved(in: Backends.registry)[.storage]!
        do {
            // Opening a storage backend applies its migrations (under a lock where several replicas may race),
            // whatever SOMA_AUTO_MIGRATE says: applying them is this command's job.
            let forced = source.backendConfiguration.overriding([SharedSettings.autoMigrate.name: "true"])
            try await BackendLifetime.during(logger: .quiet("soma.migrate")) { lifetime in
                let storage = try await Backends.registry.makeStorage(name, forced, in: lifetime)
                guard await storage.isHealthy() else { throw PlainFailure.startup("storage backend \(name) does not answer") }
            }
        } catch let failure as PlainFailure {
            throw failure
        } catch {
            throw PlainFailure.startup("\(error)")
        }
        print("migrations applied: storage \(name)")
    }
}
