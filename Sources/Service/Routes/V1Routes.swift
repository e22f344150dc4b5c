import Foundation
import Hummingbird
import SomaCore

/// The resource-style API under /v1.
struct V1Routes {
    let env: RouteEnvironment

    struct StoreBody: Decodable {
        var coord: CoordinateInput
        var payload: JSONObject
        var type: String?
        var importance: Double?
        var ttlSeconds: Double?
        var expiresAt: String?

        enum CodingKeys: String, CodingKey {
            case coord, payload, type, importance
            case ttlSeconds = "ttl_seconds", expiresAt = "expires_at"
        }
    }

    struct BulkBody: Decodable { var items: [StoreBody] }
    struct PatchBody: Decodable { var importance: Double }
    struct DeleteManyBody: Decodable { var coords: [CoordinateInput] }

    struct SearchBody: Decodable {
        var query: String
        var topK: Int?
        var mode: SearchMode?
        var type: String?
        var filters: JSONObject?
        var minScore: Double?
        var exact: Bool?
        var caseSensitive: Bool?
        var context: JSONObject?
        var keywordWeight: Double?
        var fusion: HybridFusion?

        enum CodingKeys: String, CodingKey {
            case query, mode, type, filters, exact, context, fusion
            case topK = "top_k", minScore = "min_score", caseSensitive = "case_sensitive", keywordWeight = "keyword_weight"
        }
    }

    struct LinkBody: Decodable {
        var from: CoordinateInput
        var to: CoordinateInput
        var type: String?
        var weight: Double?
    }

    func draft(_ item: StoreBody, namespace: String) throws -> MemoryDraft {
        MemoryDraft(
            namespace: namespace, coordinate: try env.coordinate(item.coord),
            type: try InputCheck.memoryType(item.type, default: .episodic)!, payload: item.payload,
            importance: try InputCheck.finite(item.importance, "importance") ?? Importance.defaultRaw,
            expiresAt: try InputCheck.expiry(ttlSeconds: item.ttlSeconds, expiresAt: item.expiresAt))
    }

    /// Recall as the search route does it (the MCP recall tool shares it, with its own defaults).
    func search(_ body: SearchBody, namespace: String, defaultMode: SearchMode, defaultTopK: Int) async throws -> [ScoredMemory] {
        let recall = RecallRequest(
            namespace: namespace, query: body.query, topK: body.topK ?? defaultTopK, type: try InputCheck.memoryType(body.type),
            filters: body.filters ?? [:], minScore: try InputCheck.finite(body.minScore, "min_score"),
            exact: body.exact ?? false, caseSensitive: body.caseSensitive ?? false,
            keywordWeight: try InputCheck.finite(body.keywordWeight, "keyword_weight"), fusion: body.fusion)
        if let context = body.context, !context.isEmpty {
            return try await env.engine.recallWithContext(recall, context: context)
        }
        return try await env.engine.recall(recall, mode: body.mode ?? defaultMode)
    }

    func link(_ body: LinkBody, namespace: String) async throws -> Link {
        let link = Link(
            from: try env.coordinate(body.from), to: try env.coordinate(body.to), type: body.type ?? Link.defaultType,
            weight: try InputCheck.finite(body.weight, "weight") ?? Link.defaultWeight)
        try await env.engine.link(namespace: namespace, link)
        return link
    }

    func add(to router: Router<SomaRequestContext>) {
        let v1 = router.group("v1")
        // Each body's schema, looked up once rather than per request.
        let storeFields = KnownFields.bodySchema("post", "/v1/memories")
        let bulkFields = KnownFields.bodySchema("post", "/v1/memories/bulk")
        let deleteFields = KnownFields.bodySchema("post", "/v1/memories/delete")
        let searchFields = KnownFields.bodySchema("post", "/v1/memories/search")
        let patchFields = KnownFields.bodySchema("patch", "/v1/memories/{coord}")
        let linkFields = KnownFields.bodySchema("post", "/v1/links")
        v1.post("memories") { request, context in
            let body = try await env.body.decode(StoreBody.self, from: request, fields: storeFields)
            let memory = try await env.engine.store(try draft(body, namespace: context.namespace))
            return JSONResponse.make(bytes: MemoryView(memory).json, status: memory.version == 1 ? .created : .ok)
        }
        v1.post("memories/bulk") { request, context in
            let body = try await env.body.decode(BulkBody.self, from: request, fields: bulkFields)
            let stored = try await env.engine.store(try body.items.map { try draft($0, namespace: context.namespace) })
            struct Stored: Encodable { let coord: String; let id: UUID; let version: Int }
            struct Answer: Encodable { let stored: Int; let memories: [Stored] }
            return try JSONResponse.make(
                Answer(stored: stored.count, memories: stored.map { Stored(coord: $0.coordinate.canonical, id: $0.id, version: $0.version) }))
        }
        v1.post("memories/delete") { request, context in
            let body = try await env.body.decode(DeleteManyBody.self, from: request, fields: deleteFields)
            let deleted = try await env.engine.delete(namespace: context.namespace, coordinates: try body.coords.map(env.coordinate))
            return try JSONResponse.make(["deleted": deleted])
        }
        v1.get("memories") { request, context in
            let query = env.query(request)
            let page = try await env.engine.list(
                namespace: context.namespace, type: try InputCheck.memoryType(query.string("type")),
                cursor: query.string("cursor"), limit: try query.int("limit") ?? 100)
            struct Answer: Encodable {
                let items: [MemoryView]
                let nextCursor: String?
                enum CodingKeys: String, CodingKey { case items, nextCursor = "next_cursor" }
                func encode(to encoder: any Encoder) throws {
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encode(items, forKey: .items)
                    try container.encode(nextCursor, forKey: .nextCursor)
                }
            }
            return try JSONResponse.make(Answer(items: page.memories.map(MemoryView.init), nextCursor: page.nextCursor))
        }
        v1.get("memories/range") { request, context in
            let query = env.query(request)
            let found = try await env.engine.range(
                namespace: context.namespace, min: try query.coordinate("min", maxDimensions: env.maxDimensions),
                max: try query.coordinate("max", maxDimensions: env.maxDimensions), type: try InputCheck.memoryType(query.string("type")),
                limit: try query.int("limit") ?? 1000)
            return try JSONResponse.make(["items": found.map(MemoryView.init)])
        }
        v1.post("memories/search") { request, context in
            let body = try await env.body.decode(SearchBody.self, from: request, fields: searchFields)
            let hits = try await search(body, namespace: context.namespace, defaultMode: .vector, defaultTopK: 10)
            return JSONResponse.make(bytes: ScoredView.results(hits.map(ScoredView.init)))
        }
        v1.get("memories/:coord") { _, context in
            let coordinate = try env.pathCoordinate(context)
            guard let memory = try await env.engine.get(namespace: context.namespace, coordinate: coordinate) else {
                throw APIError.notFound("no memory at \(coordinate) in namespace \(context.namespace)")
            }
            return JSONResponse.make(bytes: MemoryView(memory).json)
        }
        v1.patch("memories/:coord") { request, context in
            let coordinate = try env.pathCoordinate(context)
            let body = try await env.body.decode(PatchBody.self, from: request, fields: patchFields)
            let memory = try await env.engine.setImportance(
                namespace: context.namespace, coordinate: coordinate, importance: try InputCheck.finite(body.importance, "importance")!)
            return JSONResponse.make(bytes: MemoryView(memory).json)
        }
        v1.delete("memories/:coord") { _, context in
            let coordinate = try env.pathCoordinate(context)
            guard try await env.engine.delete(namespace: context.namespace, coordinates: [coordinate]) > 0 else {
                throw APIError.notFound("no memory at \(coordinate) in namespace \(context.namespace)")
            }
            return try JSONResponse.make(["deleted": 1])
        }
        v1.post("links") { request, context in
            let link = try await self.link(
                env.body.decode(LinkBody.self, from: request, fields: linkFields), namespace: context.namespace)
            return try JSONResponse.make(LinkView(link), status: .created)
        }
        v1.get("links/neighbors") { request, context in
            let query = env.query(request)
            let direction = try query.string("direction").map { text in
                guard let direction = LinkDirection(rawValue: text) else {
                    throw APIError.badRequest("invalid_request", "direction must be 'out' or 'in'")
                }
                return direction
            }
            let links = try await env.engine.neighbors(
                namespace: context.namespace, of: try query.coordinate("coord", maxDimensions: env.maxDimensions),
                direction: direction ?? .outgoing, type: query.string("type"), limit: try query.int("limit") ?? 100)
            return try JSONResponse.make(["neighbors": links.map(LinkView.init)])
        }
        v1.get("links/path") { request, context in
            let query = env.query(request)
            let path = try await env.engine.shortestPath(
                namespace: context.namespace, from: try query.coordinate("from", maxDimensions: env.maxDimensions),
                to: try query.coordinate("to", maxDimensions: env.maxDimensions), type: query.string("type"), maxDepth: try query.int("max_depth"))
            struct Answer: Encodable {
                let found: Bool
                let path: [String]
                let totalWeight: Double?
                enum CodingKeys: String, CodingKey { case found, path, totalWeight = "total_weight" }
                func encode(to encoder: any Encoder) throws {
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encode(found, forKey: .found)
                    try container.encode(path, forKey: .path)
                    try container.encode(totalWeight, forKey: .totalWeight)
                }
            }
            return try JSONResponse.make(Answer(found: path != nil, path: path?.coordinates.map(\.canonical) ?? [], totalWeight: path?.totalWeight))
        }
        v1.get("stats") { _, context in
            let counts = try await env.engine.stats(namespace: context.namespace)
            struct Answer: Encodable { let namespace: String; let total: Int; let episodic: Int; let semantic: Int }
            return try JSONResponse.make(
                Answer(namespace: context.namespace, total: counts.total, episodic: counts.episodic, semantic: counts.semantic))
        }
        v1.get("export") { request, context in
            let vectors = try env.query(request).bool("vectors") ?? false
            let lines = env.engine.exportLines(namespace: context.namespace, vectors: vectors)
            let body = ResponseBody { writer in
                for try await line in lines { try await writer.write(ByteBuffer(bytes: line)) }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
        }
        v1.post("import") { request, context in
            let buffer = try await env.body.bytes(request)
            guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
                throw APIError.badRequest("malformed_body", "the import body must be UTF-8 JSON Lines")
            }
            guard !text.allSatisfy(\.isWhitespace) else {
                throw APIError.badRequest("malformed_body", "the import body is empty; JSON Lines (one memory per line) are expected")
            }
            try env.body.check(Data(text.utf8))
            let outcome = try await env.engine.importLines(text, namespace: context.namespace)
            return try JSONResponse.make([
                "imported": outcome.memories, "links": outcome.links, "unchanged": outcome.unchanged, "vectors_reused": outcome.vectorsReused,
            ])
        }
    }
}
