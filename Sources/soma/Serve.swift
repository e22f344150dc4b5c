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
        if let host { flags["SOMA_HOST"] = host }
        if let port { flags["SOMA_PORT"] = String(port) }
        if let dataDirectory { flags["SOMA_DATA_DIR"] = dataDirectory }
        return flags
    }

    func load() async throws -> (SettingsSource, ServiceSettings) {
        let source = try await SettingsSource.load(flags: flags, file: config)
        return (source, try ServiceSettings.read(source))
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API (the default command).")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let (source, settings): (SettingsSource, ServiceSettings)
        do {
            (source, settings) = try await options.load()
            try settings.checkExposure()
        } catch {
            throw StartupFailure("\(error)")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "soma")
        let engine: MemoryEngine
        do {
            engine = try await EngineAssembly.build(registry: Backends.registry, source: source, settings: settings, logger: logger)
        } catch {
            throw StartupFailure("\(error)")
        }
        if settings.tokens.isEmpty {
            logger.warning("no API token configured: the API is open, so it listens on loopback only (\(settings.host))")
        }
        logger.info("listening", metadata: ["host": .string(settings.host), "port": .stringConvertible(settings.port)])
        try await SomaApplication.application(engine: engine, settings: settings, logger: logger).runService()
        do {
            try await engine.vectors.flush()
        } catch {
            logger.warning("could not save the vector index; it will be rebuilt at the next start", metadata: ["error": .string("\(error)")])
        }
        logger.info("stopped")
    }
}

/// A start-up error printed as one clear line, with a non-zero exit and no stack trace.
struct StartupFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = "cannot start: \(description)" }
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

    static let names = [
        "SOMA_HOST", "SOMA_PORT", "SOMA_DATA_DIR", "SOMA_MEMORY_NAMESPACE", "SOMA_STORAGE", "SOMA_CACHE", "SOMA_VECTOR", "SOMA_BUS",
        "SOMA_EMBEDDER", "SOMA_VECTOR_DIM", "SOMA_API_TOKEN", "SOMA_API_TOKEN_FILE", "SOMA_API_TOKENS_FILE", "SOMA_RATE_LIMIT_MAX",
        "SOMA_RATE_LIMIT_WINDOW_SECONDS", "SOMA_CORS_ORIGINS", "SOMA_MAX_BODY_BYTES", "SOMA_MAX_TOP_K", "SOMA_MAX_BULK_ITEMS",
        "SOMA_MAX_PAYLOAD_DEPTH", "SOMA_MAX_COORDINATE_DIMENSIONS", "SOMA_CACHE_TTL_SECONDS", "SOMA_EMBED_FIELDS", "EVENTING_ENABLED",
        "VECTOR_INDEX_ASYNC", "LOG_LEVEL", "POSTGRES_URL", "REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "QDRANT_URL",
        "QDRANT_HOST", "QDRANT_PORT", "QDRANT_API_KEY", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_MEMORY_EVENTS_TOPIC", "KAFKA_CONSUMER_GROUP",
    ]

    func run() async throws {
        let (source, settings) = try await options.load()
        for name in Self.names {
            guard let value = source.string(name) else { continue }
            let shown = SettingsSource.secretNames.contains(name) ? (value.contains("://") ? Redaction.url(value) : "***") : value
            print("\(name)=\(shown)")
        }
        let backends = settings.backends.resolved(in: Backends.registry)
        for capability in Capability.allCases {
            print("backend.\(capability)=\(backends[capability]!)")
        }
    }
}
