import Foundation
import Logging
import MCP
import SomaCore

/// The memory as Model Context Protocol tools, acting in one namespace. Arguments are decoded
/// with the REST API's own decoder, so a bad argument gives the same message as the same mistake
/// in a request body; every failure is a tool error (`isError`), never a protocol failure.
struct MemoryTools: Sendable {
    let env: RouteEnvironment
    let namespace: String
    /// A tool's failure is an answer, not an HTTP error: a server-side one is logged here with its cause.
    var logger = Logger(label: "soma.mcp")
    var v1: V1Routes { V1Routes(env: env) }

    // MARK: Arguments

    struct StoreArguments: Decodable {
        var text: String?
        var payload: JSONObject?
        var coordinate: CoordinateInput?
        var type: String?
        var importance: Double?
        var ttlSeconds: Double?
        enum CodingKeys: String, CodingKey { case text, payload, coordinate, type, importance, ttlSeconds = "ttl_seconds" }
    }

    struct Place: Decodable { var coordinate: CoordinateInput }

    struct UpdateArguments: Decodable {
        var coordinate: CoordinateInput
        var text: String?
        var payload: JSONObject?
        var importance: Double?
    }

    struct NeighbourArguments: Decodable {
        var coordinate: CoordinateInput
        var linkType: String?
        var limit: Int?
        enum CodingKeys: String, CodingKey { case coordinate, limit, linkType = "link_type" }
    }

    struct PathArguments: Decodable {
        var from: CoordinateInput
        var to: CoordinateInput
        var linkType: String?
        var maxDepth: Int?
        enum CodingKeys: String, CodingKey { case from, to, linkType = "link_type", maxDepth = "max_depth" }
    }

    // MARK: Calls

    /// The tool's output, or why it failed in the REST API's words (code, detail).
    enum Outcome {
        case output(any Encodable)
        /// Already JSON, from the REST API's own writers (recall and get, the hot tools).
        case json([UInt8])
        case failure(APIError)
    }

    func run(_ name: String, arguments data: Data) async -> Outcome {
        do {
            switch name {
            case "recall": return .json(try await recall(env.body.decode(V1Routes.SearchBody.self, from: data)))
            case "get_memory": return .json(try await get(env.body.decode(Place.self, from: data)))
            default: break
            }
            let output: any Encodable =
                switch name {
                case "store_memory": try await store(env.body.decode(StoreArguments.self, from: data))
                case "update_memory": try await update(env.body.decode(UpdateArguments.self, from: data))
                case "forget_memory": try await forget(env.body.decode(Place.self, from: data))
                case "link_memories": try await LinkView(v1.link(env.body.decode(V1Routes.LinkBody.self, from: data), namespace: namespace))
                case "neighbours": try await neighbours(env.body.decode(NeighbourArguments.self, from: data))
                case "shortest_path": try await path(env.body.decode(PathArguments.self, from: data))
                case "stats": try await stats()
                default: throw APIError.notFound("no tool named '\(name)'; call tools/list for the tools this server has")
                }
            return .output(output)
        } catch {
            let failure = APIError.from(error)
            if failure.status.code >= 500 {
                var metadata = FailureLog.metadata(error, backends: env.engine.options.backendNames)
                metadata["tool"] = .string(name)
                logger.error("tool call failed", metadata: metadata)
            }
            return .failure(failure)
        }
    }

    /// For the SDK's server (stdio, and the methods /mcp does not answer itself).
    func call(_ name: String, _ arguments: [String: Value]) async -> CallTool.Result {
        let outcome = await run(name, arguments: (try? JSONEncoder().encode(arguments)) ?? Data("{}".utf8))
        switch outcome {
        case .output(let output):
            if let json = try? SomaJSON.encoder().encode(output), let result = try? Self.result(Array(json)) { return result }
            return Self.failure(APIError(.internalServerError, code: "internal_error", "internal error"))
        case .json(let json):
            if let result = try? Self.result(json) { return result }
            return Self.failure(APIError(.internalServerError, code: "internal_error", "internal error"))
        case .failure(let failure):
            return Self.failure(failure)
        }
    }

    static func failure(_ failure: APIError) -> CallTool.Result {
        .init(content: [.text(text: "\(failure.code): \(failure.detail)", annotations: nil, _meta: nil)], isError: true)
    }

    /// Structured content for programs, and the same JSON as text for hosts that show only text.
    static func result(_ json: [UInt8]) throws -> CallTool.Result {
        // Read with our reader, not the SDK's Value decoder: that one matches every string against
        // a data-URL regex it compiles anew each time (measured: two thirds of a recall call's CPU).
        let structured = Value(try JSONReader.value(json))
        return .init(
            content: [.text(text: String(decoding: json, as: UTF8.self), annotations: nil, _meta: nil)], structuredContent: structured as Value?,
            isError: false)
    }

    private func store(_ arguments: StoreArguments) async throws -> MemoryView {
        var payload = arguments.payload ?? [:]
        if let text = arguments.text { payload["text"] = .string(text) }
        guard !payload.isEmpty else { throw APIError.badRequest("invalid_request", "give text or a payload to remember") }
        let coordinate = try arguments.coordinate.map(env.coordinate) ?? Self.freshCoordinate()
        let draft = MemoryDraft(
            namespace: namespace, coordinate: coordinate, type: try InputCheck.memoryType(arguments.type, default: ToolCatalogue.storeType)!,
            payload: payload,
            importance: try InputCheck.finite(arguments.importance, "importance") ?? Importance.defaultRaw,
            expiresAt: try InputCheck.expiry(ttlSeconds: arguments.ttlSeconds, expiresAt: nil))
        return MemoryView(try await env.engine.store(draft))
    }

    /// A coordinate for a memory stored without one: the time in milliseconds and a random
    /// second axis, so two stores in the same millisecond do not update each other.
    static func freshCoordinate() throws -> Coordinate {
        try Coordinate([(Date().timeIntervalSince1970 * 1000).rounded(), Double(Int.random(in: 0..<1_000_000))])
    }

    /// Hybrid by default: a model's question should find memories by meaning and by exact words.
    private func recall(_ arguments: V1Routes.SearchBody) async throws -> [UInt8] {
        ScoredView.results(
            try await v1.search(arguments, namespace: namespace, defaultMode: ToolCatalogue.recallMode, defaultTopK: ToolCatalogue.recallTopK).map(
                ScoredView.init))
    }

    private func memory(at place: CoordinateInput) async throws -> Memory {
        let coordinate = try env.coordinate(place)
        guard let memory = try await env.engine.get(namespace: namespace, coordinate: coordinate) else {
            throw APIError.notFound("no memory at \(coordinate) in namespace \(namespace)")
        }
        return memory
    }

    private func get(_ arguments: Place) async throws -> [UInt8] {
        MemoryView(try await memory(at: arguments.coordinate)).json
    }

    /// New text or payload replaces the content (a new version); importance alone is set in place.
    private func update(_ arguments: UpdateArguments) async throws -> MemoryView {
        var current = try await memory(at: arguments.coordinate)
        if arguments.text != nil || arguments.payload != nil {
            var payload = arguments.payload ?? current.payload
            if let text = arguments.text { payload["text"] = .string(text) }
            current = try await env.engine.store(
                MemoryDraft(
                    namespace: namespace, coordinate: current.coordinate, type: current.type, payload: payload,
                    importance: try InputCheck.finite(arguments.importance, "importance") ?? current.importance, expiresAt: current.expiresAt))
        } else if let importance = try InputCheck.finite(arguments.importance, "importance") {
            current = try await env.engine.setImportance(namespace: namespace, coordinate: current.coordinate, importance: importance)
        } else {
            throw APIError.badRequest("invalid_request", "give text, a payload or an importance to change")
        }
        return MemoryView(current)
    }

    struct Deleted: Encodable { let deleted: Int }

    private func forget(_ arguments: Place) async throws -> Deleted {
        let coordinate = try env.coordinate(arguments.coordinate)
        let deleted = try await env.engine.delete(namespace: namespace, coordinates: [coordinate])
        guard deleted > 0 else { throw APIError.notFound("no memory at \(coordinate) in namespace \(namespace)") }
        return Deleted(deleted: deleted)
    }

    struct Neighbours: Encodable { let neighbors: [LinkView] }

    private func neighbours(_ arguments: NeighbourArguments) async throws -> Neighbours {
        let links = try await env.engine.neighbors(
            namespace: namespace, of: try env.coordinate(arguments.coordinate), type: arguments.linkType, limit: arguments.limit ?? 100)
        return Neighbours(neighbors: links.map(LinkView.init))
    }

    struct Path: Encodable {
        let found: Bool
        let path: [String]
        let totalWeight: Double?
        enum CodingKeys: String, CodingKey { case found, path, totalWeight = "total_weight" }
    }

    private func path(_ arguments: PathArguments) async throws -> Path {
        let result = try await env.engine.shortestPath(
            namespace: namespace, from: try env.coordinate(arguments.from), to: try env.coordinate(arguments.to),
            type: arguments.linkType, maxDepth: arguments.maxDepth)
        return Path(found: result != nil, path: result?.coordinates.map(\.canonical) ?? [], totalWeight: result?.totalWeight)
    }

    struct Counts: Encodable {
        let namespace: String
        let total: Int
        let episodic: Int
        let semantic: Int
    }

    private func stats() async throws -> Counts {
        let counts = try await env.engine.stats(namespace: namespace)
        return Counts(namespace: namespace, total: counts.total, episodic: counts.episodic, semantic: counts.semantic)
    }
}

extension Value {
    /// The same JSON as the SDK's value (strings stay strings).
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = Int(exactly: number).map(Value.int) ?? .double(Double(number))
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(Value.init))
        case .object(let fields): self = .object(fields.mapValues(Value.init))
        }
    }
}
