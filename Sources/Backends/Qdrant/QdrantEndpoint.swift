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

    static let url = Setting<String?>("QDRANT_URL", "Selects the `qdrant` vector backend: `http(s)://host:port`")
    static let host = Setting<String?>("QDRANT_HOST", "The Qdrant host, when QDRANT_URL is unset")
    static let port = Setting<Int>("QDRANT_PORT", default: 6333, in: 1...65535, "The Qdrant port, with QDRANT_HOST")
    static let apiKeySetting = Setting<String?>("QDRANT_API_KEY", secret: true, "Sent as the `api-key` header")
    static let collectionSetting = Setting<String>(
        "QDRANT_COLLECTION", default: "soma_memories", "Collection name (created when missing, cosine, the embedder's dimension)")
    static let timeoutSetting = Setting<Int>("QDRANT_TIMEOUT_MS", default: 5000, in: 1...3_600_000, "Deadline per request")
    static let settings: [any DeclaredSetting] = [url, host, port, apiKeySetting, collectionSetting, timeoutSetting]

    public init(_ configuration: BackendConfiguration) throws {
        var base: String
        if let url = try configuration.value(Self.url) {
            guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host?.isEmpty == false else {
                throw BackendError.invalidSetting(name: Self.url.name, reason: "expected http(s)://host:port")
            }
            base = url
        } else if let host = try configuration.value(Self.host) {
            base = "http://\(host):\(try configuration.value(Self.port))"
        } else {
            throw BackendError.invalidSetting(name: Self.url.name, reason: "set \(Self.url.name), or \(Self.host.name) and \(Self.port.name)")
        }
        while base.hasSuffix("/") { base.removeLast() }
        let collection = try configuration.vectorCollection(configuration.value(Self.collectionSetting))
        guard collection.range(of: "^[A-Za-z0-9_.-]{1,255}$", options: .regularExpression) != nil else {
            throw BackendError.invalidSetting(name: Self.collectionSetting.name, reason: "letters, digits, '_', '-', '.' only")
        }
        self.init(
            baseURL: base, apiKey: try configuration.value(Self.apiKeySetting), collection: collection,
            timeout: .milliseconds(try configuration.value(Self.timeoutSetting)))
    }

    /// Where it connects, for the start-up log: the URL (credentials masked) or host and port.
    static func location(_ configuration: BackendConfiguration) -> String {
        if let url = (try? configuration.value(url)).flatMap({ $0 }) { return Redaction.url(url) }
        return "\((try? configuration.value(host)).flatMap { $0 } ?? "?"):\((try? configuration.value(port)).map(String.init) ?? "?")"
    }

    /// Where, without the key: for logs and errors.
    public var description: String { "\(baseURL)/collections/\(collection)" }
}
