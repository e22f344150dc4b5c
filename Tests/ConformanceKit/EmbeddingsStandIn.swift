import AsyncHTTPClient
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The OpenAI-compatible embeddings stand-in (`Tests/EmbeddingsStandIn/embeddings_standin.py`) as a
/// child process on a loopback port of its own, so a test can script it, read its statistics,
/// stop it and start it again on the same port.
public final class EmbeddingsStandIn: @unchecked Sendable {
    public let port: Int
    public let apiKey: String
    public let dimension: Int
    private let lock = NSLock()
    private var pid: pid_t?

    public static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EmbeddingsStandIn/embeddings_standin.py").path

    /// The API base, as OpenAI clients take it.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    public init(dimension: Int = 384, apiKey: String = "standin-key-\(UInt32.random(in: 0...UInt32.max))") async throws {
        port = try Spawn.freePort()
        self.apiKey = apiKey
        self.dimension = dimension
        try await start()
    }

    public func start() async throws {
        let child = try Spawn.launch(
            ["python3", Self.script, "--port", String(port), "--dimension", String(dimension), "--api-key", apiKey],
            output: FileManager.default.temporaryDirectory.appendingPathComponent("embeddings-standin-\(port).log").path)
        lock.withLock { pid = child }
        for _ in 0..<100 {
            if (try? await get("/healthz")) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServerControlError(message: "the embeddings stand-in did not start on port \(port)")
    }

    /// Stops the process: from now on, connections are refused.
    public func stop() {
        guard let child = lock.withLock({ pid.take() }) else { return }
        kill(child, SIGTERM)
        Spawn.wait(child)
    }

    deinit { stop() }

    public struct Stats: Decodable, Sendable {
        public let requests: Int
        public let texts: Int
        public let batches: [Int]
        public let maxInFlight: Int
        public let tokens: [String]
        public let refused: [String]

        enum CodingKeys: String, CodingKey {
            case requests, texts, batches, tokens, refused
            case maxInFlight = "max_in_flight"
        }
    }

    public func stats() async throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: try await get("/_stats"))
    }

    public func reset() async throws { try await post("/_reset", "{}") }

    /// Scripted answers for the next requests, in order: `["status": 429, "retry_after": "1"]`,
    /// `["status": 500]`, `["delay_ms": 3000]`, `["dimension": 12]`; and latency on every request.
    public func control(script: [[String: any Sendable]] = [], delayMilliseconds: Int? = nil) async throws {
        var document: [String: Any] = ["script": script]
        if let delayMilliseconds { document["delay_ms"] = delayMilliseconds }
        try await post("/_control", String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self))
    }

    private func get(_ path: String) async throws -> Data {
        try await send(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"))
    }

    private func post(_ path: String, _ body: String) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        _ = try await send(request)
    }

    private func send(_ request: HTTPClientRequest) async throws -> Data {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else { throw ServerControlError(message: "stand-in \(request.url) answered \(response.status)") }
        return Data(body.readableBytesView)
    }
}
