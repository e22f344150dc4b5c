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

    public init(_ configuration: BackendConfiguration) throws {
        guard let url = configuration.string("SOMA_EMBEDDINGS_URL") else {
            throw BackendError.invalidSetting(name: "SOMA_EMBEDDINGS_URL", reason: "the openai embedder needs the API base, e.g. http://localhost:11434/v1")
        }
        guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host?.isEmpty == false else {
            throw BackendError.invalidSetting(name: "SOMA_EMBEDDINGS_URL", reason: "expected http(s)://host[:port]/path")
        }
        guard parsed.user == nil, parsed.password == nil else {
            throw BackendError.invalidSetting(name: "SOMA_EMBEDDINGS_URL", reason: "put credentials in SOMA_EMBEDDINGS_API_KEY, not in the URL")
        }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        guard let model = configuration.string("SOMA_EMBEDDINGS_MODEL") else {
            throw BackendError.invalidSetting(name: "SOMA_EMBEDDINGS_MODEL", reason: "the openai embedder needs the model name the server knows")
        }
        let dimensions = try configuration.string("SOMA_EMBEDDINGS_DIMENSIONS").map { _ in
            try configuration.int("SOMA_EMBEDDINGS_DIMENSIONS", default: 0, in: 1...65_536)
        }
        self.init(baseURL: base, model: model, apiKey: configuration.string("SOMA_EMBEDDINGS_API_KEY"), requestedDimensions: dimensions)
        batchSize = try configuration.int("SOMA_EMBEDDINGS_BATCH_SIZE", default: batchSize, in: 1...2048)
        concurrency = try configuration.int("SOMA_EMBEDDINGS_CONCURRENCY", default: concurrency, in: 1...256)
        timeout = .milliseconds(try configuration.int("SOMA_EMBEDDINGS_TIMEOUT_MS", default: 30_000, in: 1...600_000))
        maxAttempts = try configuration.int("SOMA_EMBEDDINGS_MAX_ATTEMPTS", default: maxAttempts, in: 1...100)
        retryBackoff = .milliseconds(try configuration.int("SOMA_EMBEDDINGS_RETRY_BACKOFF_MS", default: 200, in: 1...60_000))
        maxCharacters = try configuration.int("SOMA_EMBEDDINGS_MAX_CHARS", default: maxCharacters, in: 1...10_000_000)
    }

    public var endpoint: String { baseURL + "/embeddings" }
}
