import Foundation
import Hummingbird
import SomaCore

/// The original service's routes, with its request and response shapes, so its clients work unchanged.
struct LegacyRoutes {
    let env: RouteEnvironment
    /// `SOMA_HYBRID_RECALL_DEFAULT`: the original's `/recall` is hybrid unless a request says otherwise.
    let hybridByDefault: Bool

    struct StoreBody: Decodable {
        var coord: CoordinateInput
        var payload: JSONObject
        var type: String?
    }

    struct StoreBulkBody: Decodable { var items: [StoreBody] }

    struct RecallBody: Decodable {
        var query: String
        var topK: Int?
        var type: String?
        var filters: JSONObject?
        var hybrid: Bool?
        var exact: Bool?
        var caseSensitive: Bool?

        enum CodingKeys: String, CodingKey {
            case query, type, filters, hybrid, exact
            case topK = "top_k", caseSensitive = "case_sensitive"
        }
    }

    struct RecallBatchBody: Decodable {
        var queries: [String]
        var topK: Int?
        var type: String?
        var filters: JSONObject?
        var hybrid: Bool?

        enum CodingKeys: String, CodingKey {
            case queries, type, filters, hybrid
            case topK = "top_k"
        }
    }

    struct ContextBody: Decodable {
        var query: String
        var context: JSONObject
        var topK: Int?
        var type: String?

        enum CodingKeys: String, CodingKey {
            case query, context, type
            case topK = "top_k"
        }
    }

    struct KeywordBody: Decodable {
        var term: String
        var exact: Bool?
        var caseSensitive: Bool?
        var topK: Int?
        var type: String?

        enum CodingKeys: String, CodingKey {
            case term, exact, type
            case caseSensitive = "case_sensitive", topK = "top_k"
        }
    }

    struct HybridBody: Decodable {
        var query: String
        var terms: [String]?
        var boost: Double?
        var topK: Int?
        var exact: Bool?
        var caseSensitive: Bool?
        var type: String?

        enum CodingKeys: String, CodingKey {
            case query, terms, boost, exact, type
            case topK = "top_k", caseSensitive = "case_sensitive"
        }
    }

    struct LinkBody: Decodable {
        var fromCoord: CoordinateInput
        var toCoord: CoordinateInput
        var type: String?
        var weight: Double?

        enum CodingKeys: String, CodingKey {
            case type, weight
            case fromCoord = "from_coord", toCoord = "to_coord"
        }
    }

    struct ScoredPayload: Encodable {
        let payload: JSONObject
        let score: Double
        init(_ hit: ScoredMemory) {
            payload = LegacyPayload.of(hit.memory)
            score = hit.score
        }
    }

    /// The original read a memory's importance from its payload's `importance` field.
    func draft(_ item: StoreBody, namespace: String) throws -> MemoryDraft {
        MemoryDraft(
            namespace: namespace, coordinate: try env.coordinate(item.coord),
            type: try InputCheck.memoryType(item.type, default: .episodic)!, payload: item.payload,
            importance: try InputCheck.finite(item.payload["importance"]?.doubleValue, "payload.importance") ?? Importance.defaultRaw)
    }

    /// `/recall` and its batch follow the hybrid default; `/recall_with_scores` is vector unless asked.
    /// Hybrid matching is exact by default, as the original's was.
    func recall(_ body: RecallBody, namespace: String, hybridDefault: Bool) async throws -> [ScoredMemory] {
        let request = RecallRequest(
            namespace: namespace, query: body.query, topK: InputCheck.topK(body.topK), type: try InputCheck.memoryType(body.type),
            filters: body.filters ?? [:], exact: body.exact ?? true, caseSensitive: body.caseSensitive ?? false)
        return try await env.engine.recall(request, mode: body.hybrid ?? hybridDefault ? .hybrid : .vector)
    }

    func add(to router: Router<SomaRequestContext>) {
        router.post("store") { request, context in
            let body = try await env.body.decode(StoreBody.self, from: request)
            _ = try await env.engine.store(try draft(body, namespace: context.namespace))
            return try JSONResponse.make(["ok": true])
        }
        router.post("store_bulk") { request, context in
            let body = try await env.body.decode(StoreBulkBody.self, from: request)
            let stored = try await env.engine.store(try body.items.map { try draft($0, namespace: context.namespace) })
            return try JSONResponse.make(["stored": stored.count])
        }
        router.post("recall") { request, context in
            let body = try await env.body.decode(RecallBody.self, from: request)
            let hits = try await recall(body, namespace: context.namespace, hybridDefault: hybridByDefault)
            return try JSONResponse.make(["matches": hits.map { LegacyPayload.of($0.memory) }])
        }
        router.get("recall") { request, context in
            let query = env.query(request)
            var filters: JSONObject?
            if let text = query.string("filters") {
                do {
                    filters = try env.body.decode(JSONObject.self, from: Data(text.utf8))
                } catch {
                    throw APIError.badRequest("invalid_parameter", "query parameter 'filters' must be a JSON object")
                }
            }
            let body = RecallBody(
                query: try query.required("query"), topK: try query.int("top_k"), type: query.string("type"), filters: filters,
                hybrid: try query.bool("hybrid"))
            let hits = try await recall(body, namespace: context.namespace, hybridDefault: hybridByDefault)
            return try JSONResponse.make(["matches": hits.map { LegacyPayload.of($0.memory) }])
        }
        router.post("recall_batch") { request, context in
            let body = try await env.body.decode(RecallBatchBody.self, from: request)
            guard body.queries.count <= env.engine.options.maxBulkItems else {
                throw APIError(.contentTooLarge, code: "too_large", "at most \(env.engine.options.maxBulkItems) queries per batch")
            }
            var batches: [[JSONObject]] = []
            for query in body.queries {
                let single = RecallBody(query: query, topK: body.topK, type: body.type, filters: body.filters, hybrid: body.hybrid)
                batches.append(
                    try await recall(single, namespace: context.namespace, hybridDefault: hybridByDefault).map { LegacyPayload.of($0.memory) })
            }
            return try JSONResponse.make(["batches": batches])
        }
        // The original's document puts this route's arguments in the query string; its example
        // clients sent a body. Both work: the query string when it names a query.
        router.post("recall_with_scores") { request, context in
            let query = env.query(request)
            let body =
                if let text = query.string("query") {
                    RecallBody(
                        query: text, topK: try query.int("top_k"), type: query.string("type"), hybrid: try query.bool("hybrid"),
                        exact: try query.bool("exact"), caseSensitive: try query.bool("case_sensitive"))
                } else {
                    try await env.body.decode(RecallBody.self, from: request)
                }
            let hits = try await recall(body, namespace: context.namespace, hybridDefault: false)
            return try JSONResponse.make(["results": hits.map(ScoredPayload.init)])
        }
        // As above: `?query=&top_k=&type=` with the context object as the body, or all in the body.
        router.post("recall_with_context") { request, context in
            let query = env.query(request)
            let body =
                if let text = query.string("query") {
                    ContextBody(
                        query: text, context: try await env.body.decode(JSONObject.self, from: request), topK: try query.int("top_k"),
                        type: query.string("type"))
                } else {
                    try await env.body.decode(ContextBody.self, from: request)
                }
            let recall = RecallRequest(
                namespace: context.namespace, query: body.query, topK: InputCheck.topK(body.topK), type: try InputCheck.memoryType(body.type))
            let hits = try await env.engine.recallWithContext(recall, context: body.context)
            return try JSONResponse.make(["results": hits.map { LegacyPayload.of($0.memory) }])
        }
        router.post("keyword_search") { request, context in
            let body = try await env.body.decode(KeywordBody.self, from: request)
            let search = RecallRequest(
                namespace: context.namespace, query: body.term, topK: InputCheck.topK(body.topK ?? 50), type: try InputCheck.memoryType(body.type),
                exact: body.exact ?? true, caseSensitive: body.caseSensitive ?? false)
            let hits = try await env.engine.valueSearch(search)
            return try JSONResponse.make(["results": hits.map { LegacyPayload.of($0.memory) }])
        }
        router.post("hybrid_recall_with_scores") { request, context in
            let body = try await env.body.decode(HybridBody.self, from: request)
            let search = RecallRequest(
                namespace: context.namespace, query: body.query, topK: InputCheck.topK(body.topK), type: try InputCheck.memoryType(body.type),
                exact: body.exact ?? true, caseSensitive: body.caseSensitive ?? false, terms: body.terms ?? [],
                keywordBoost: try InputCheck.finite(body.boost, "boost") ?? 2)
            let hits = try await env.engine.hybridRecall(search)
            return try JSONResponse.make(["results": hits.map(ScoredPayload.init)])
        }
        router.get("range") { request, context in
            let query = env.query(request)
            let found = try await env.engine.range(
                namespace: context.namespace, min: try query.coordinate("min", maxDimensions: env.maxDimensions),
                max: try query.coordinate("max", maxDimensions: env.maxDimensions), type: try InputCheck.memoryType(query.string("type")))
            return try JSONResponse.make(["coords": found.map(\.coordinate.values)])
        }
        router.post("link") { request, context in
            let body = try await env.body.decode(LinkBody.self, from: request)
            let link = Link(
                from: try env.coordinate(body.fromCoord), to: try env.coordinate(body.toCoord), type: body.type ?? Link.defaultType,
                weight: try InputCheck.finite(body.weight, "weight") ?? 1)
            try await env.engine.link(namespace: context.namespace, link)
            return try JSONResponse.make(["ok": true])
        }
        router.get("neighbors") { request, context in
            let query = env.query(request)
            let links: [Link]
            do {
                links = try await env.engine.neighbors(
                    namespace: context.namespace, of: try query.coordinate("coord", maxDimensions: env.maxDimensions),
                    type: query.string("link_type"), limit: try query.int("limit") ?? 100)
            } catch EngineError.notFound {
                links = []  // the original answered an unknown memory with no neighbours
            }
            // The original's shape: [coordinate, edge data] pairs, the edge as it kept it.
            let pairs: [JSONValue] = links.map { link in
                let to = JSONValue.array(link.to.values.map(JSONValue.double))
                return .array([
                    to,
                    .object([
                        "to": to, "type": .string(link.type), "timestamp": .double(link.createdAt.timeIntervalSince1970),
                        "weight": .double(link.weight),
                    ]),
                ])
            }
            return try JSONResponse.make(["neighbors": pairs])
        }
        router.get("shortest_path") { request, context in
            let query = env.query(request)
            let from = try query.coordinate("frm", maxDimensions: env.maxDimensions)
            let to = try query.coordinate("to", maxDimensions: env.maxDimensions)
            let path: PathResult?
            do {
                path = try await env.engine.shortestPath(namespace: context.namespace, from: from, to: to, type: query.string("link_type"))
            } catch EngineError.notFound {
                path = nil
            }
            return try JSONResponse.make(["path": path?.coordinates.map(\.values) ?? []])
        }
        router.get("stats") { _, context in
            let counts = try await env.engine.stats(namespace: context.namespace)
            return try JSONResponse.make(["total_memories": counts.total, "episodic": counts.episodic, "semantic": counts.semantic])
        }
    }
}
