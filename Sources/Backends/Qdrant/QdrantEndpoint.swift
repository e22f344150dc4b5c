import Foundation
import SomaCore

/// Where Qdrant is: `QDRANT_URL` (`http(s)://host:port`), or `QDRANT_HOST` + `QDRANT_PORT` (6333);
/// `QDRANT_API_KEY` (sent as the `api-key` header), `QDRANT_COLLECTION`, `QDRANT_TIMEOUT_MS`.
public struct QdrantEndpoint: Sendable {
    public var baseURL: String
    public var apiKey: String?
    public var collection: String
    public var timeout: Duration

    public init(baseURL: String, apiKey: String? = nil, collection: String = "soma_memories", timeout: Duration = .seconds(5)) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.collection = collection
        self.timeout = timeout
    }

    public init(_ configuration: BackendConfiguration) throws {
        var base: String
        if let url = configuration.string("QDRANT_URL") {
            guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host?.isEmpty == false else {
                throw BackendError.invalidSetting(name: "QDRANT_URL", reason: "expected http(s)://host:port")
            }
            base = url
        } else if let host = configuration.string("QDRANT_HOST") {
            base = "http://\(host):\(try configuration.int("QDRANT_PORT", default: 6333))"
        } else {
            throw BackendError.invalidSetting(name: "QDRANT_URL", reason: "set QDRANT_URL, or QDRANT_HOST and QDRANT_PORT")
        }
        while base.hasSuffix("/") { base.removeLast() }
        let collection = try configuration.vectorCollection(configuration.string("QDRANT_COLLECTION") ?? "soma_memories")
        guard collection.range(of: "^[A-Za-z0-9_.-]{1,255}$", options: .regularExpression) != nil else {
            throw BackendError.invalidSetting(name: "QDRANT_COLLECTION", reason: "letters, digits, '_', '-', '.' only")
        }
        let milliseconds = try configuration.int("QDRANT_TIMEOUT_MS", default: 5000)
        guard milliseconds > 0 else { throw BackendError.invalidSetting(name: "QDRANT_TIMEOUT_MS", reason: "must be positive") }
        self.init(baseURL: base, apiKey: configuration.string("QDRANT_API_KEY"), collection: collection, timeout: .milliseconds(milliseconds))
    }

    /// Where, without the key: for logs and errors.
    public var description: String { "\(baseURL)/collections/\(collection)" }
}
