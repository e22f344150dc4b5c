import Foundation
import SomaCore

/// Where and how to reach an OpenAI-compatible embeddings server (OpenAI, Ollama, vLLM, TEI,
/// LocalAI): `SOMA_EMBEDDINGS_URL` is the API base as OpenAI clients take it
/// (`http://localhost:11434/v1`); requests go to `<base>/embeddings`.
public struct OpenAIEmbedderSettings: Sendable {
    public var baseURL: String
    public var model: String
    /// Sent as a bearer token; never logged, never in an error.
    public var apiKey: String?
    /// Asked of the server as `dimensions` (models that can shorten their vectors).
    public var requestedDimensions: Int?
    /// Texts per request.
    public var batchSize = 64
    /// Requests in flight at once, across every caller in the process.
    public var concurrency = 4
    public var timeout: Duration = .seconds(30)
    /// Tries per batch, counting the first; 429, 5xx and transport failures are retried.
    public var maxAttempts = 4
    /// First retry delay, doubling; a `Retry-After` from the server takes precedence.
    public var retryBackoff: Duration = .milliseconds(200)
    /// Longest wait a `Retry-After` may impose before the batch fails instead.
    public var maxRetryAfter: Duration = .seconds(30)
    /// Texts are cut to this many characters before they are sent.
    public var maxCharacters = 8000

    public init(baseURL: String, model: String, apiKey: String? = nil, requestedDimensions: Int? = nil) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.requestedDimensions = requestedDimensions
    }

    static let url = Setting<String?>(
        "SOMA_EMBEDDINGS_URL", "Selects the `openai` embedder: the API base of any server with OpenAI's embeddings API")
    static let modelSetting = Setting<String?>("SOMA_EMBEDDINGS_MODEL", "The model the server is asked for")
    static let apiKeySetting = Setting<String?>("SOMA_EMBEDDINGS_API_KEY", secret: true, "Sent as the bearer token")
    static let dimensionsSetting = Setting<Int?>(
        "SOMA_EMBEDDINGS_DIMENSIONS", "Sent as `dimensions`, for models that shorten their vectors",
        problem: { value in value.map { (1...65_536).contains($0) } == false ? "must be between 1 and 65536" : nil })
    static let batchSizeSetting = Setting<Int>("SOMA_EMBEDDINGS_BATCH_SIZE", default: 64, in: 1...2048, "Texts per request")
    static let concurrencySetting = Setting<Int>(
        "SOMA_EMBEDDINGS_CONCURRENCY", default: 4, in: 1...256, "Requests in flight at once, for the whole process")
    static let timeoutSetting = Setting<Int>("SOMA_EMBEDDINGS_TIMEOUT_MS", default: 30_000, in: 1...600_000, "Deadline per request")
    static let maxAttemptsSetting = Setting<Int>(
        "SOMA_EMBEDDINGS_MAX_ATTEMPTS", default: 4, in: 1...100, "Tries per batch (429, 5xx, timeouts and refused connections are retried)")
    static let retryBackoffSetting = Setting<Int>(
        "SOMA_EMBEDDINGS_RETRY_BACKOFF_MS", default: 200, in: 1...60_000, "The first retry's delay, doubling")
    static let maxCharactersSetting = Setting<Int>(
        "SOMA_EMBEDDINGS_MAX_CHARS", default: 8000, in: 1...10_000_000, "Texts are cut to this many characters before embedding")
    static let settings: [any DeclaredSetting] = [
        url, modelSetting, apiKeySetting, dimensionsSetting, batchSizeSetting, concurrencySetting, timeoutSetting, maxAttemptsSetting,
        retryBackoffSetting, maxCharactersSetting,
    ]

    public init(_ configuration: BackendConfiguration) throws {
        guard let url = try configuration.value(Self.url) else {
            throw BackendError.invalidSetting(name: Self.url.name, reason: "the openai embedder needs the API base, e.g. http://localhost:11434/v1")
        }
        guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host?.isEmpty == false else {
            throw BackendError.invalidSetting(name: Self.url.name, reason: "expected http(s)://host[:port]/path")
        }
        guard parsed.user == nil, parsed.password == nil else {
            throw BackendError.invalidSetting(name: Self.url.name, reason: "put credentials in \(Self.apiKeySetting.name), not in the URL")
        }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        guard let model = try configuration.value(Self.modelSetting) else {
            throw BackendError.invalidSetting(name: Self.modelSetting.name, reason: "the openai embedder needs the model name the server knows")
        }
        self.init(
            baseURL: base, model: model, apiKey: try configuration.value(Self.apiKeySetting),
            requestedDimensions: try configuration.value(Self.dimensionsSetting))
        batchSize = try configuration.value(Self.batchSizeSetting)
        concurrency = try configuration.value(Self.concurrencySetting)
        timeout = .milliseconds(try configuration.value(Self.timeoutSetting))
        maxAttempts = try configuration.value(Self.maxAttemptsSetting)
        retryBackoff = .milliseconds(try configuration.value(Self.retryBackoffSetting))
        maxCharacters = try configuration.value(Self.maxCharactersSetting)
    }

    public var endpoint: String { baseURL + "/embeddings" }
}
