import Foundation
import Logging
import SomaCore

/// Everything the HTTP service needs to start, read and checked once.
public struct ServiceSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 9595
    public var dataDirectory = "./data"
    public var defaultNamespace = "api_ns"
    public var tokens = AccessTokens(grants: [])
    public var rateLimit = RateLimitPolicy(max: 600, window: .seconds(60))
    public var corsOrigins: [String] = []
    public var maxBodyBytes = 1024 * 1024
    /// The original's `/recall` is hybrid unless `SOMA_HYBRID_RECALL_DEFAULT` is false.
    public var hybridRecallDefault = true
    /// The web console at /console (its files are open; the API behind it checks tokens).
    public var consoleEnabled = true
    public var maxJSONDepth = 64
    public var logLevel = Logger.Level.info
    public var eventingEnabled = true
    public var engine = EngineOptions()
    public var backends = BackendChoice()
    public var sweepInterval: Duration = .seconds(30)
    /// How often a process that indexes looks for memories whose indexing failed.
    public var repairInterval: Duration = .seconds(10)
    /// How long a stop may wait for open requests and services; below Kubernetes' default 30 s grace.
    public var shutdownGrace: Duration = .seconds(20)
    /// The consumer pod (`soma consume`): its group, its probes-and-metrics port, its retry policy.
    public var consumerGroup = "soma-consumer-group"  // the original's, so offsets carry over
    public var consumerMetricsPort = 8001
    public var consumer = ConsumerPolicy()

    public init() {}

    public static func read(_ source: SettingsSource) throws -> ServiceSettings {
        let config = source.backendConfiguration
        var settings = ServiceSettings()
        // The original ran under uvicorn, whose variables its values files set; ours win where both are.
        settings.host = source.string("SOMA_HOST") ?? source.string("UVICORN_HOST") ?? settings.host
        settings.port = try config.int("SOMA_PORT", default: try config.int("UVICORN_PORT", default: settings.port))
        guard (0...65535).contains(settings.port) else { throw SettingsError("SOMA_PORT must be between 0 and 65535") }
        settings.dataDirectory = source.string("SOMA_DATA_DIR") ?? settings.dataDirectory
        // The original's memory system let SOMA_NAMESPACE override the namespace it was given.
        let namespaceSetting = source.string("SOMA_NAMESPACE") != nil ? "SOMA_NAMESPACE" : "SOMA_MEMORY_NAMESPACE"
        settings.defaultNamespace = source.string(namespaceSetting) ?? settings.defaultNamespace
        guard Namespace.isValid(settings.defaultNamespace) else {
            throw SettingsError("\(namespaceSetting) must be 1 to 64 letters, digits, '_', '-' or '.'")
        }
        settings.tokens = AccessTokens(grants: try readTokens(source))
        settings.rateLimit = RateLimitPolicy(
            max: try config.int("SOMA_RATE_LIMIT_MAX", default: settings.rateLimit.max),
            window: .seconds(try config.int("SOMA_RATE_LIMIT_WINDOW_SECONDS", default: 60)))
        guard settings.rateLimit.max >= 0, settings.rateLimit.window > .zero else {
            throw SettingsError("SOMA_RATE_LIMIT_MAX must be >= 0 and SOMA_RATE_LIMIT_WINDOW_SECONDS > 0")
        }
        settings.corsOrigins = (source.string("SOMA_CORS_ORIGINS") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let megabytes = source.string("SOMA_MAX_REQUEST_BODY_MB") {
            guard let value = Double(megabytes), value.isFinite, value > 0, value < 1024 else {
                throw SettingsError("SOMA_MAX_REQUEST_BODY_MB must be a number of megabytes above 0 and below 1024")
            }
            settings.maxBodyBytes = Int(value * 1024 * 1024)
        }
        settings.maxBodyBytes = try config.int("SOMA_MAX_BODY_BYTES", default: settings.maxBodyBytes)
        settings.hybridRecallDefault = try config.bool("SOMA_HYBRID_RECALL_DEFAULT", default: true)
        settings.consoleEnabled = try config.bool("SOMA_CONSOLE_ENABLED", default: true)
        if let level = source.string("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw SettingsError("LOG_LEVEL must be one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.logLevel = parsed
        }
        settings.eventingEnabled = try config.bool("EVENTING_ENABLED", default: true)
        // Without events no consumer would index, so the API does.
        let asynchronous = try config.bool("VECTOR_INDEX_ASYNC", default: false)
        settings.engine.indexSynchronously = !settings.eventingEnabled || !asynchronous
        settings.engine.maxTopK = try config.int("SOMA_MAX_TOP_K", default: settings.engine.maxTopK)
        settings.engine.maxBulkItems = try config.int("SOMA_MAX_BULK_ITEMS", default: settings.engine.maxBulkItems)
        settings.engine.maxPayloadDepth = try config.int("SOMA_MAX_PAYLOAD_DEPTH", default: settings.engine.maxPayloadDepth)
        settings.maxJSONDepth = settings.engine.maxPayloadDepth + 8
        settings.engine.maxCoordinateDimensions = try config.int("SOMA_MAX_COORDINATE_DIMENSIONS", default: settings.engine.maxCoordinateDimensions)
        settings.engine.bm25 = BM25(
            k1: try config.double("SOMA_BM25_K1", default: BM25.standard.k1, in: 0...10),
            b: try config.double("SOMA_BM25_B", default: BM25.standard.b, in: 0...1))
        settings.engine.hybridKeywordWeight = try config.double(
            "SOMA_HYBRID_KEYWORD_WEIGHT", default: settings.engine.hybridKeywordWeight, in: 0...1)
        if let fusion = source.string("SOMA_HYBRID_FUSION") {
            guard let parsed = HybridFusion(rawValue: fusion.lowercased()) else {
                throw SettingsError("SOMA_HYBRID_FUSION must be one of: \(HybridFusion.allCases.map(\.rawValue).joined(separator: ", ")), got '\(fusion)'")
            }
            settings.engine.hybridFusion = parsed
        }
        settings.engine.cacheTTL = .seconds(try config.int("SOMA_CACHE_TTL_SECONDS", default: 300))
        settings.shutdownGrace = .seconds(try config.int("SOMA_SHUTDOWN_GRACE_SECONDS", default: 20))
        settings.consumerGroup = source.string("KAFKA_CONSUMER_GROUP") ?? settings.consumerGroup
        settings.consumerMetricsPort = try config.int("CONSUMER_METRICS_PORT", default: settings.consumerMetricsPort)
        guard (0...65535).contains(settings.consumerMetricsPort) else { throw SettingsError("CONSUMER_METRICS_PORT must be between 0 and 65535") }
        settings.consumer.maxAttempts = try config.int("CONSUMER_MAX_ATTEMPTS", default: settings.consumer.maxAttempts)
        settings.consumer.backoff = .milliseconds(try config.int("CONSUMER_RETRY_BACKOFF_MS", default: 200))
        settings.repairInterval = .milliseconds(try config.int("SOMA_INDEX_REPAIR_INTERVAL_MS", default: 10_000))
        settings.engine.embedFields = (source.string("SOMA_EMBED_FIELDS") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (name, value) in [("SOMA_MAX_TOP_K", settings.engine.maxTopK), ("SOMA_MAX_BULK_ITEMS", settings.engine.maxBulkItems),
                              ("SOMA_MAX_PAYLOAD_DEPTH", settings.engine.maxPayloadDepth), ("SOMA_MAX_BODY_BYTES", settings.maxBodyBytes),
                              ("SOMA_MAX_COORDINATE_DIMENSIONS", settings.engine.maxCoordinateDimensions),
                              ("SOMA_SHUTDOWN_GRACE_SECONDS", Int(settings.shutdownGrace.components.seconds)),
                              ("CONSUMER_MAX_ATTEMPTS", settings.consumer.maxAttempts),
                              ("CONSUMER_RETRY_BACKOFF_MS", Int(settings.consumer.backoff.wholeMilliseconds)),
                              ("SOMA_INDEX_REPAIR_INTERVAL_MS", Int(settings.repairInterval.wholeMilliseconds))] where value < 1 {
            throw SettingsError("\(name) must be at least 1")
        }
        settings.backends = BackendChoice.read(source)
        return settings
    }

    static func readTokens(_ source: SettingsSource) throws -> [(token: String, namespaces: Set<String>?)] {
        var grants: [(token: String, namespaces: Set<String>?)] = []
        if let token = source.string("SOMA_API_TOKEN") { grants.append((token, nil)) }
        if let path = source.string("SOMA_API_TOKEN_FILE") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SettingsError("cannot read SOMA_API_TOKEN_FILE at \(path)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw SettingsError("SOMA_API_TOKEN_FILE at \(path) is empty") }
            grants.append((token, nil))
        }
        if let path = source.string("SOMA_API_TOKENS_FILE") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SettingsError("cannot read SOMA_API_TOKENS_FILE at \(path)")
            }
            grants.append(contentsOf: try AccessTokens.parseFile(text))
        }
        return grants
    }

    /// Without a token the API is open, so it may only listen on loopback.
    public func checkExposure() throws {
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.")
        if tokens.isEmpty && !loopback {
            throw SettingsError(
                "refusing to listen on \(host) without an API token: set SOMA_API_TOKEN (or SOMA_API_TOKEN_FILE / SOMA_API_TOKENS_FILE), or listen on 127.0.0.1")
        }
    }
}
