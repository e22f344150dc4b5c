import AsyncHTTPClient
import SomaBackendHTTP
import Foundation
import NIOCore
import NIOHTTP1
import SomaCore

/// Vectors from any server that speaks OpenAI's `POST /embeddings` (`SOMA_EMBEDDER=openai`).
/// Texts are cut to `maxCharacters`; blank texts get the zero vector without a request (a server
/// refuses empty input, and the hash embedder gives them the same). Batches share a process-wide
/// queue (`EmbeddingQueue`), failed requests are retried, and every vector's dimension is checked.
public final class OpenAIEmbedder: Embedder {
    public let settings: OpenAIEmbedderSettings
    public let dimension: Int
    /// The model and its dimension: a change of either is a change of model for the index.
    public var modelID: String { "\(settings.model)@\(dimension)" }
    private let client: EmbeddingsClient
    private let queue: EmbeddingQueue

    public init(settings: OpenAIEmbedderSettings, dimension: Int, http: HTTPClient) {
        self.settings = settings
        self.dimension = dimension
        let client = EmbeddingsClient(settings: settings, http: http)
        self.client = client
        queue = EmbeddingQueue(slots: settings.concurrency, batchSize: settings.batchSize) { texts in
            try await client.embed(texts, expecting: dimension)
        }
    }

    /// The dimension from the settings, or else from one small request to the server.
    public static func make(_ settings: OpenAIEmbedderSettings, configuredDimension: Int?, http: HTTPClient) async throws -> OpenAIEmbedder {
        let dimension = SharedSettings.vectorDimension.name
        if let requested = settings.requestedDimensions, let configuredDimension, requested != configuredDimension {
            throw BackendError.invalidSetting(
                name: dimension,
                reason: "is \(configuredDimension) but \(OpenAIEmbedderSettings.dimensionsSetting.name) asks the model for \(requested)")
        }
        if let known = settings.requestedDimensions ?? configuredDimension {
            return OpenAIEmbedder(settings: settings, dimension: known, http: http)
        }
        let probe: [[Float]]
        do {
            probe = try await EmbeddingsClient(settings: settings, http: http).embed(["dimension probe"], expecting: nil)
        } catch {
            throw BackendError.invalidSetting(
                name: dimension,
                reason:
                    "not set, and asking \(settings.redactedEndpoint) for one vector to learn it failed (\(error)); set \(dimension) to the model's dimension"
            )
        }
        return OpenAIEmbedder(settings: settings, dimension: probe[0].count, http: http)
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let prepared = texts.map { String($0.prefix(settings.maxCharacters)) }
        let blank = prepared.map { $0.allSatisfy(\.isWhitespace) }
        let sent = try await queue.embed(zip(prepared, blank).compactMap { $1 ? nil : $0 })
        var next = sent.makeIterator()
        return blank.map { $0 ? Array(repeating: 0, count: dimension) : next.next()! }
    }
}

extension OpenAIEmbedderSettings {
    /// The endpoint without any query string: for logs and errors.
    var redactedEndpoint: String {
        guard var components = URLComponents(string: endpoint) else { return "the embedding server" }
        components.query = nil
        return components.string ?? "the embedding server"
    }
}

/// One batch to the server and back, with retries.
public struct EmbeddingsClient: Sendable {
    let settings: OpenAIEmbedderSettings
    let http: HTTPClient

    private struct Request: Encodable {
        let model: String
        let input: [String]
        let encodingFormat = "float"
        let dimensions: Int?

        enum CodingKeys: String, CodingKey {
            case model, input, dimensions
            case encodingFormat = "encoding_format"
        }
    }

    private struct Response: Decodable {
        struct Item: Decodable {
            let embedding: [Float]
            let index: Int
        }
        let data: [Item]
    }

    private enum Outcome {
        case vectors([[Float]])
        case retry(reason: String, after: Duration?)
    }

    /// Vectors in the order of `texts`; `expecting` nil accepts any (equal) dimension.
    func embed(_ texts: [String], expecting dimension: Int?) async throws -> [[Float]] {
        let body = try JSONEncoder().encode(Request(model: settings.model, input: texts, dimensions: settings.requestedDimensions))
        var attempt = 1
        while true {
            switch try await post(body, count: texts.count, expecting: dimension) {
            case .vectors(let vectors):
                return vectors
            case .retry(let reason, let retryAfter):
                guard attempt < settings.maxAttempts else {
                    throw failure("\(reason) (gave up after \(attempt) attempts)")
                }
                let backoff = settings.retryBackoff * (1 << min(attempt - 1, 6))
                let delay = retryAfter ?? min(backoff, .seconds(10))
                guard delay <= settings.maxRetryAfter else {
                    throw failure("\(reason); it asks to wait \(delay.wholeMilliseconds / 1000) s, longer than this service waits")
                }
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    private func post(_ body: Data, count: Int, expecting dimension: Int?) async throws -> Outcome {
        var request = HTTPClientRequest(url: settings.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key = settings.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .milliseconds(settings.timeout.wholeMilliseconds))
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return .retry(reason: "no answer from \(settings.redactedEndpoint): \(Self.describe(error))", after: nil)
        }
        let status = Int(response.status.code)
        if status == 429 || status >= 500 {
            return .retry(reason: "\(settings.redactedEndpoint) answered \(status): \(Self.message(bytes))", after: Self.retryAfter(response.headers))
        }
        guard (200..<300).contains(status) else {
            throw failure("\(settings.redactedEndpoint) refused the request (\(status)): \(Self.message(bytes))")
        }
        guard let decoded = try? JSONDecoder().decode(Response.self, from: Data(bytes.readableBytesView)) else {
            throw failure("\(settings.redactedEndpoint) answered without an OpenAI embeddings list (`data[].embedding`)")
        }
        let ordered = decoded.data.sorted { $0.index < $1.index }.map(\.embedding)
        guard ordered.count == count else {
            throw failure("\(settings.redactedEndpoint) returned \(ordered.count) vectors for \(count) texts")
        }
        let expected = dimension ?? ordered[0].count
        if let wrong = ordered.first(where: { $0.count != expected }) {
            throw failure(
                "model \(settings.model) returned \(wrong.count)-dimensional vectors; this service expects \(expected) "
                    + "(SOMA_VECTOR_DIM, or SOMA_EMBEDDINGS_DIMENSIONS for models that shorten their vectors)")
        }
        return .vectors(ordered)
    }

    private func failure(_ reason: String) -> BackendError {
        .unreachable(backend: "embeddings", reason: reason)
    }

    /// `Retry-After` in seconds, or as an HTTP date.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = format.date(from: value) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
    }

    /// The server's own error text (OpenAI's `error.message`, or the start of the body).
    static func message(_ bytes: ByteBuffer) -> String {
        let data = Data(bytes.readableBytesView)
        if let document = try? JSONDecoder().decode(JSONValue.self, from: data) {
            if case .string(let text)? = document["error"]?["message"] { return String(text.prefix(300)) }
            if case .string(let text)? = document["error"] { return String(text.prefix(300)) }
        }
        return String(String(decoding: data, as: UTF8.self).prefix(300))
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            return "timed out"
        }
        return String(describing: error)
    }
}
