import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import SomaCore
import SomaInProcess
@testable import SomaService

/// A response with its body parsed as JSON.
struct Reply: @unchecked Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    subscript(key: String) -> Any? { json[key] }
    var isJSONError: Bool { json["detail"] is String && json["code"] is String }
}

extension TestClientProtocol {
    func call(
        _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, token: String? = nil, namespace: String? = nil, headers: HTTPFields = [:]
    ) async throws -> Reply {
        var fields = headers
        if body != nil { fields[.contentType] = "application/json" }
        if let token { fields[.authorization] = "Bearer \(token)" }
        if let namespace { fields[HTTPField.Name("X-Soma-Namespace")!] = namespace }
        return try await execute(uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) }) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }
}

func testSettings(_ configure: (inout ServiceSettings) -> Void = { _ in }) -> ServiceSettings {
    var settings = ServiceSettings()
    settings.rateLimit = RateLimitPolicy(max: 0, window: .seconds(60))
    settings.engine.maxBulkItems = 50
    configure(&settings)
    return settings
}

func inProcessEngine(_ options: EngineOptions, storage: any MemoryStorage = InProcessStorage()) async throws -> MemoryEngine {
    let engine = MemoryEngine(
        storage: storage, cache: InProcessCache(), vectors: InProcessVectorIndex(), bus: InProcessEventBus(),
        embedder: HashEmbedder(dimension: 64), options: options)
    try await engine.prepare()
    return engine
}

/// Runs `test` against the full router (all middleware) over in-process backends.
func withApp(
    _ settings: ServiceSettings = testSettings(), storage: any MemoryStorage = InProcessStorage(), logger: Logger? = nil,
    _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let engine = try await inProcessEngine(settings.engine, storage: storage)
    let app = Application(router: SomaApplication.router(engine: engine, settings: settings), logger: logger ?? Logger(label: "soma.test"))
    try await app.test(.router) { client in try await test(client) }
}

/// Storage that has gone away: every call fails as a dropped connection would.
struct UnreachableStorage: MemoryStorage {
    /// Says where it failed as a driver would, credentials included: the log must mask them.
    struct ConnectionRefused: Error, CustomStringConvertible {
        var description: String { "connection refused by postgres://soma:hunter2@db.internal:5432/soma" }
    }
    func upsert(_ drafts: [MemoryDraft], at now: Date) async throws -> [Memory] { throw ConnectionRefused() }
    func get(namespace: String, coordinate: Coordinate) async throws -> Memory? { throw ConnectionRefused() }
    func get(namespace: String, ids: [UUID]) async throws -> [Memory] { throw ConnectionRefused() }
    func delete(namespace: String, coordinates: [Coordinate], at now: Date) async throws -> [Memory] { throw ConnectionRefused() }
    func list(namespace: String, type: MemoryType?, after cursor: String?, limit: Int) async throws -> MemoryPage { throw ConnectionRefused() }
    func range(namespace: String, min: Coordinate, max: Coordinate, type: MemoryType?, limit: Int) async throws -> [Memory] {
        throw ConnectionRefused()
    }
    func keywordSearch(namespace: String, query: KeywordQuery, type: MemoryType?, limit: Int) async throws -> [Memory] { throw ConnectionRefused() }
    func addLink(namespace: String, link: Link) async throws { throw ConnectionRefused() }
    func links(namespace: String, from: Coordinate, type: String?, limit: Int) async throws -> [Link] { throw ConnectionRefused() }
    func links(namespace: String, to: Coordinate, type: String?, limit: Int) async throws -> [Link] { throw ConnectionRefused() }
    func counts(namespace: String) async throws -> MemoryCounts { throw ConnectionRefused() }
    func deleteExpired(before now: Date, limit: Int) async throws -> [Memory] { throw ConnectionRefused() }
    func pendingEvents(limit: Int) async throws -> [OutboxEntry] { throw ConnectionRefused() }
    func markRelayed(_ sequence: [Int64]) async throws { throw ConnectionRefused() }
    func memoriesToEmbed(notEmbeddedWith model: String?, after cursor: UUID?, limit: Int) async throws -> [Memory] { throw ConnectionRefused() }
    func recordEmbedding(_ versions: [RecordVersion], model: String?) async throws { throw ConnectionRefused() }
    func serviceValue(_ key: String) async throws -> String? { throw ConnectionRefused() }
    func setServiceValues(_ values: [String: String?]) async throws { throw ConnectionRefused() }
    func isHealthy() async -> Bool { false }
}

/// Keeps every log record, so a test can read what an operator would.
final class RecordedLog: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])
    var all: [Record] { records.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "soma.test") { _ in Handler(log: self) }
        logger.logLevel = .debug
        return logger
    }

    private struct Handler: LogHandler {
        let log: RecordedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            log.records.withLock { $0.append(Record(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" })) }
        }
    }
}
