import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SomaBackendHTTP
import SomaCore

/// Vectors in Qdrant through its REST API. A memory is one point (id = the memory's UUID) with the
/// payload `namespace`, `type`, `coordinate`, `importance`, `created_at`, `updated_at`, `version`
/// and the memory's own payload under `payload`; every search filters on the namespace.
public final class QdrantVectorIndex: VectorIndex {
    let endpoint: QdrantEndpoint
    let http: HTTPClient

    /// `http` fails a refused connection at once: a Qdrant that is down answers 503 in
    /// milliseconds rather than after the whole timeout.
    public init(endpoint: QdrantEndpoint, http: HTTPClient) {
        self.endpoint = endpoint
        self.http = http
    }

    private var collectionPath: String { "/collections/\(endpoint.collection)" }

    public func ensureCollection(dimension: Int) async throws {
        if let size = try await existingDimension() {
            guard size == dimension else { throw BackendError.dimensionMismatch(expected: dimension, actual: size) }
            return
        }
        let created = try await call(.PUT, collectionPath, ["vectors": ["size": .int(Int64(dimension)), "distance": "Cosine"]], allow: [409])
        if created.status == 409, let size = try await existingDimension(), size != dimension {
            // Another replica created it first, for another dimension.
            throw BackendError.dimensionMismatch(expected: dimension, actual: size)
        }
        for field in ["namespace", "type"] {
            _ = try await call(.PUT, collectionPath + "/index?wait=true", ["field_name": .string(field), "field_schema": "keyword"])
        }
    }

    private func existingDimension() async throws -> Int? {
        let reply = try await call(.GET, collectionPath, nil, allow: [404])
        guard reply.status != 404 else { return nil }
        guard case .int(let size)? = reply.result?["config"]?["params"]?["vectors"]?["size"] else {
            throw BackendError.unreachable(
                backend: "qdrant", reason: "collection \(endpoint.collection) has no single unnamed vector; this service needs one")
        }
        return Int(size)
    }

    public func upsert(_ points: [VectorPoint]) async throws {
        guard !points.isEmpty else { return }
        let body: JSONValue = [
            "points": .array(
                points.map { point -> JSONValue in
                    var payload: JSONObject = [
                        "namespace": .string(point.namespace), "type": .string(point.type.rawValue), "version": .int(Int64(point.version)),
                        "payload": .object(point.payload),
                    ]
                    if let record = point.record {
                        payload["coordinate"] = .array(record.coordinate.map(JSONValue.double))
                        payload["importance"] = .double(record.importance)
                        payload["created_at"] = .string(RFC3339.string(from: record.createdAt))
                        payload["updated_at"] = .string(RFC3339.string(from: record.updatedAt))
                    }
                    return [
                        "id": .string(point.id.uuidString.lowercased()), "vector": .array(point.vector.map { .double(Double($0)) }),
                        "payload": .object(payload),
                    ]
                })
        ]
        _ = try await call(.PUT, collectionPath + "/points?wait=true", body)
    }

    public func delete(ids: [UUID]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await call(.POST, collectionPath + "/points/delete?wait=true", ["points": .array(ids.map { .string($0.uuidString.lowercased()) })])
    }

    public func search(_ query: VectorQuery) async throws -> [VectorHit] {
        guard query.limit > 0 else { return [] }
        let plan = QdrantFilter(query)
        let body: JSONValue = [
            "query": .array(query.vector.map { .double(Double($0)) }), "filter": plan.filter,
            "limit": .int(Int64(plan.needsPayload ? query.limit * 4 + 16 : query.limit)), "with_payload": .bool(plan.needsPayload),
        ]
        let reply = try await call(.POST, collectionPath + "/points/query", body)
        guard case .array(let points)? = reply.result?["points"] else { return [] }
        var hits: [VectorHit] = []
        for point in points {
            guard case .string(let text)? = point["id"], let id = UUID(uuidString: text), let score = point["score"]?.doubleValue else { continue }
            if plan.needsPayload, !plan.admits(point["payload"]?["payload"]) { continue }
            hits.append(VectorHit(id: id, score: score))
            if hits.count == query.limit { break }
        }
        return hits
    }

    /// The query restricted to the given points (`has_id`): Qdrant scores each exactly.
    public func similarities(to vector: [Float], ids: [UUID], namespace: String) async throws -> [UUID: Double] {
        guard !ids.isEmpty else { return [:] }
        let filter: JSONValue = [
            "must": [
                ["key": "namespace", "match": ["value": .string(namespace)]], ["has_id": .array(ids.map { .string($0.uuidString.lowercased()) })],
            ]
        ]
        let body: JSONValue = [
            "query": .array(vector.map { .double(Double($0)) }), "filter": filter, "limit": .int(Int64(ids.count)), "with_payload": false,
        ]
        let reply = try await call(.POST, collectionPath + "/points/query", body)
        guard case .array(let points)? = reply.result?["points"] else { return [:] }
        var found: [UUID: Double] = [:]
        for point in points {
            guard case .string(let text)? = point["id"], let id = UUID(uuidString: text), let score = point["score"]?.doubleValue else { continue }
            found[id] = score
        }
        return found
    }

    public func storedVectors(ids: [UUID], namespace: String) async throws -> [UUID: [Float]] {
        guard !ids.isEmpty else { return [:] }
        let body: JSONValue = ["ids": .array(ids.map { .string($0.uuidString.lowercased()) }), "with_vector": true, "with_payload": ["namespace"]]
        let reply = try await call(.POST, collectionPath + "/points", body)
        guard case .array(let points)? = reply.result else { return [:] }
        var found: [UUID: [Float]] = [:]
        for point in points {
            guard case .string(let text)? = point["id"], let id = UUID(uuidString: text), point["payload"]?["namespace"] == .string(namespace),
                case .array(let values)? = point["vector"]
            else { continue }
            found[id] = values.compactMap { $0.doubleValue.map(Float.init) }
        }
        return found
    }

    public func count(namespace: String?) async throws -> Int {
        var body: JSONObject = ["exact": true]
        if let namespace { body["filter"] = ["must": [["key": "namespace", "match": ["value": .string(namespace)]]]] }
        let reply = try await call(.POST, collectionPath + "/points/count", .object(body))
        guard case .int(let count)? = reply.result?["count"] else { return 0 }
        return Int(count)
    }

    public func isHealthy() async -> Bool {
        (try? await call(.GET, "/healthz", nil, decode: false))?.status == 200
    }

    // MARK: HTTP

    struct Reply {
        var status: Int
        var result: JSONValue?
    }

    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()

    /// One request; 2xx (and the statuses in `allow`) come back, anything else becomes a clear error
    /// carrying Qdrant's own message.
    func call(_ method: HTTPMethod, _ path: String, _ body: JSONValue?, allow: Set<Int> = [], decode: Bool = true) async throws -> Reply {
        var request = HTTPClientRequest(url: endpoint.baseURL + path)
        request.method = method
        if let apiKey = endpoint.apiKey { request.headers.add(name: "api-key", value: apiKey) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try Self.encoder.encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .milliseconds(endpoint.timeout.wholeMilliseconds))
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw BackendError.unreachable(backend: "qdrant", reason: "no answer from \(endpoint.baseURL): \(ConnectionProblem.words(error))")
        }
        let status = Int(response.status.code)
        var document: JSONValue?
        if decode || !(200..<300).contains(status) {
            document = try? Self.decoder.decode(JSONValue.self, from: Data(bytes.readableBytesView))
        }
        if (200..<300).contains(status) || allow.contains(status) {
            return Reply(status: status, result: document?["result"])
        }
        let message: String
        if case .string(let error)? = document?["status"]?["error"] {
            message = error
        } else {
            message = String(String(buffer: bytes).prefix(300))
        }
        throw BackendError.unreachable(backend: "qdrant", reason: "\(method) \(path) answered \(status): \(message)")
    }
}

/// The namespace, type and payload filters as a Qdrant filter. Equality on strings, integers and
/// booleans is Qdrant's `match`; other values (numbers with fractions, objects, arrays, null) are
/// checked on the returned payloads, so a search asks for more points when it has them.
struct QdrantFilter {
    var filter: JSONValue
    var needsPayload = false
    private var residual: JSONObject = [:]

    init(_ query: VectorQuery) {
        var must: [JSONValue] = [["key": "namespace", "match": ["value": .string(query.namespace)]]]
        if let type = query.type { must.append(["key": "type", "match": ["value": .string(type.rawValue)]]) }
        for (key, value) in query.filters.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .string, .int, .bool: must.append(["key": .string("payload.\(key)"), "match": ["value": value]])
            default: residual[key] = value
            }
        }
        filter = ["must": .array(must)]
        needsPayload = !residual.isEmpty
    }

    func admits(_ payload: JSONValue?) -> Bool {
        guard case .object(let object)? = payload else { return false }
        return PayloadFilter.matches(object, residual)
    }
}
