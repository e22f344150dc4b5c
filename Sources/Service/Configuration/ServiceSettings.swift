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
    /// A connection silent this long is closed, whether idle or stalled inside a request, so slow
    /// or vanished clients cannot hold every connection.
    public var idleTimeout: Duration = .seconds(30)
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
        typealias S = ServiceSetting
        let config = source.backendConfiguration
        var settings = ServiceSettings()
        // The original ran under uvicorn, whose variables its values files set; ours win where both are.
        settings.host = try config.value(S.host) ?? config.value(S.uvicornHost) ?? settings.host
        settings.port = try config.value(S.port) ?? config.value(S.uvicornPort) ?? settings.port
        settings.dataDirectory = try config.value(S.dataDirectory)
        // The original's memory system let SOMA_NAMESPACE override the namespace it was given.
        let namespaceSetting = config.isSet(S.originalNamespace) ? S.originalNamespace.name : S.namespace.name
        settings.defaultNamespace = try config.value(S.originalNamespace) ?? config.value(S.namespace)
        guard Namespace.isValid(settings.defaultNamespace) else {
            throw SettingsError("\(namespaceSetting) must be 1 to 64 letters, digits, '_', '-' or '.'")
        }
        settings.tokens = AccessTokens(grants: try readTokens(config))
        settings.rateLimit = RateLimitPolicy(max: try config.value(S.rateLimitMax), window: .seconds(try config.value(S.rateLimitWindow)))
        settings.corsOrigins = try config.value(S.corsOrigins).items
        if let megabytes = try config.value(S.originalBodyMegabytes) { settings.maxBodyBytes = Int(megabytes * 1024 * 1024) }
        settings.maxBodyBytes = try config.value(S.maxBodyBytes) ?? settings.maxBodyBytes
        settings.idleTimeout = .seconds(try config.value(S.idleTimeout))
        settings.hybridRecallDefault = try config.value(S.hybridRecallDefault)
        settings.consoleEnabled = try config.value(S.consoleEnabled)
        settings.logLevel = try config.value(S.logLevel)
        settings.eventingEnabled = try config.value(S.eventingEnabled)
        // Without events no consumer would index, so the API does.
        let asynchronous = try config.value(S.vectorIndexAsync)
        settings.engine.indexSynchronously = !settings.eventingEnabled || !asynchronous
        settings.engine.maxTopK = try config.value(S.maxTopK)
        settings.engine.maxBulkItems = try config.value(S.maxBulkItems)
        settings.engine.maxPayloadDepth = try config.value(S.maxPayloadDepth)
        settings.maxJSONDepth = settings.engine.maxPayloadDepth + 8
        settings.engine.maxCoordinateDimensions = try config.value(S.maxCoordinateDimensions)
        settings.engine.bm25 = BM25(k1: try config.value(S.bm25K1), b: try config.value(S.bm25B))
        settings.engine.hybridKeywordWeight = try config.value(S.hybridKeywordWeight)
        settings.engine.hybridFusion = try config.value(S.hybridFusion)
        settings.engine.cacheTTL = .seconds(try config.value(S.cacheTTL))
        settings.engine.embedFields = try config.value(S.embedFields).items
        settings.shutdownGrace = .seconds(try config.value(S.shutdownGrace))
        settings.consumerGroup = try config.value(S.consumerGroup)
        settings.consumerMetricsPort = try config.value(S.consumerMetricsPort)
        settings.consumer.maxAttempts = try config.value(S.consumerMaxAttempts)
        settings.consumer.backoff = .milliseconds(try config.value(S.consumerBackoff))
        settings.repairInterval = .milliseconds(try config.value(S.repairInterval))
        settings.backends = BackendChoice.read(config)
        return settings
    }

    static func readTokens(_ config: BackendConfiguration) throws -> [(token: String, namespaces: Set<String>?)] {
        var grants: [(token: String, namespaces: Set<String>?)] = []
        if let token = try config.value(ServiceSetting.apiToken) { grants.append((token, nil)) }
        if let path = try config.value(ServiceSetting.apiTokenFile) {
            let name = ServiceSetting.apiTokenFile.name
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw SettingsError("\(name): \(FileProblem.reading(path, error))")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw SettingsError("\(name) at \(path) is empty") }
            grants.append((token, nil))
        }
        if let path = try config.value(ServiceSetting.apiTokensFile) {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw SettingsError("\(ServiceSetting.apiTokensFile.name): \(FileProblem.reading(path, error))")
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
                "refusing to listen on \(host) without an API token: set \(ServiceSetting.apiToken.name) (or \(ServiceSetting.apiTokenFile.name) / "
                    + "\(ServiceSetting.apiTokensFile.name)), or listen on 127.0.0.1")
        }
    }
}
