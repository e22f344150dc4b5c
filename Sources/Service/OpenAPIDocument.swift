import Foundation

/// The OpenAPI 3.1 description of every route, built once from small schema helpers.
enum OpenAPIDocument {
    static let json: [UInt8] = {
        let data = try? JSONSerialization.data(withJSONObject: document(), options: [.sortedKeys])
        return data.map(Array.init) ?? Array("{}".utf8)
    }()

    // MARK: Schema helpers

    typealias Schema = [String: Any]

    static func ref(_ name: String) -> Schema { ["$ref": "#/components/schemas/\(name)"] }
    static func object(_ properties: [String: Schema], required: [String] = [], additional: Bool = false) -> Schema {
        ["type": "object", "properties": properties, "required": required, "additionalProperties": additional]
    }
    static func array(_ items: Schema, maxItems: Int? = nil) -> Schema {
        var schema: Schema = ["type": "array", "items": items]
        if let maxItems { schema["maxItems"] = maxItems }
        return schema
    }
    static var string: Schema { ["type": "string"] }
    static var number: Schema { ["type": "number"] }
    static var integer: Schema { ["type": "integer"] }
    static var boolean: Schema { ["type": "boolean"] }
    static var anyObject: Schema { ["type": "object", "additionalProperties": true] }
    static var topK: Schema { ["type": "integer", "minimum": 1, "maximum": 1000] }
    static let coordText = "^\\s*-?[0-9]+(\\.[0-9]+)?\\s*(,\\s*-?[0-9]+(\\.[0-9]+)?\\s*){0,31}$"

    static func json(_ schema: Schema) -> Schema { ["application/json": ["schema": schema]] }

    static func response(_ description: String, _ schema: Schema) -> Schema {
        ["description": description, "content": json(schema)]
    }

    static var errorResponses: [String: Any] {
        [
            "400": response("Bad input", ref("Error")),
            "401": response("Missing token", ref("Error")),
            "403": response("Wrong token or namespace", ref("Error")),
            "413": response("Body or request too large", ref("Error")),
            "422": response("Body does not match the schema", ref("Error")),
            "429": response("Rate limited; see Retry-After", ref("Error")),
            "503": response("A backend is unavailable", ref("Error")),
        ]
    }

    static func operation(
        _ summary: String, body: Schema? = nil, bodyType: String = "application/json", query: [(String, Schema, Bool)] = [],
        path: [String] = [], ok: (String, Schema), okStatus: String = "200", extra: [String: Schema] = [:], open: Bool = false
    ) -> Schema {
        var op: Schema = [
            "summary": summary, "operationId": summary.lowercased().replacingOccurrences(of: " ", with: "_").filter { $0.isLetter || $0 == "_" },
        ]
        var parameters: [Schema] = path.map { ["name": $0, "in": "path", "required": true, "schema": ["type": "string", "pattern": coordText]] }
        parameters += query.map { name, schema, required in ["name": name, "in": "query", "required": required, "schema": schema] }
        if !open {
            parameters.append([
                "name": "X-Soma-Namespace", "in": "header", "required": false, "schema": ["type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"],
            ])
        }
        if !parameters.isEmpty { op["parameters"] = parameters }
        if let body { op["requestBody"] = ["required": true, "content": [bodyType: ["schema": body]]] }
        var responses: [String: Any] = open ? [:] : errorResponses
        responses[okStatus] = response(ok.0, ok.1)
        for (status, schema) in extra { responses[status] = schema }
        op["responses"] = responses
        if open { op["security"] = [[String: Any]]() }
        return op
    }

    // MARK: Document

    static func document() -> Schema {
        let memoryType: Schema = ["type": "string", "enum": ["episodic", "semantic"]]
        let legacyQueryForm: [(String, Schema, Bool)] = [
            ("query", ["type": "string"], false), ("top_k", ["type": "integer"], false), ("type", memoryType, false),
        ]
        let legacyNeighbor: Schema = [
            "type": "array", "minItems": 2, "maxItems": 2,
            // The coordinate, then the edge (prefixItems would say which is which; the fuzzer reads only items).
            "items": [
                "anyOf": [
                    ["type": "array", "items": ["type": "number"]],
                    [
                        "type": "object", "required": ["to", "type", "timestamp", "weight"],
                        "properties": [
                            "to": ["type": "array", "items": ["type": "number"]], "type": ["type": "string"], "timestamp": ["type": "number"],
                            "weight": ["type": "number"],
                        ],
                    ],
                ]
            ],
        ]
        let filters = anyObject
        let health = object(
            [
                "kv_store": boolean, "vector_store": boolean, "graph_store": boolean, "prediction_provider": boolean, "cache": boolean,
                "event_bus": boolean, "status": ["type": "string", "enum": ["ok", "degraded", "unavailable"]],
            ],
            required: ["kv_store", "vector_store", "graph_store", "prediction_provider", "cache", "event_bus", "status"])
        let schemas: [String: Any] = [
            "Error": object(["detail": string, "code": string], required: ["detail", "code"]),
            "Coordinate": ["oneOf": [["type": "string", "pattern": coordText], ["type": "array", "items": number, "minItems": 1, "maxItems": 32]]],
            "MemoryType": memoryType,
            "Memory": object(
                [
                    "id": ["type": "string", "format": "uuid"], "namespace": string, "coord": string, "coordinate": array(number),
                    "type": ref("MemoryType"), "payload": anyObject, "importance": number, "importance_normalized": number,
                    "created_at": ["type": "string", "format": "date-time"], "updated_at": ["type": "string", "format": "date-time"],
                    "version": integer, "expires_at": ["type": "string", "format": "date-time"], "embedding_model": string,
                ],
                required: [
                    "id", "namespace", "coord", "coordinate", "type", "payload", "importance", "importance_normalized", "created_at", "updated_at",
                    "version",
                ]),
            "StoreItem": object(
                [
                    "coord": ref("Coordinate"), "payload": anyObject, "type": ref("MemoryType"), "importance": number,
                    "ttl_seconds": ["type": "number", "exclusiveMinimum": 0], "expires_at": ["type": "string", "format": "date-time"],
                ], required: ["coord", "payload"]),
            "LegacyStoreItem": object(
                ["coord": ref("Coordinate"), "payload": anyObject, "type": ref("MemoryType")], required: ["coord", "payload"], additional: true),
            "ScoredMemory": object(["coord": string, "score": number, "memory": ref("Memory")], required: ["coord", "score", "memory"]),
            "Link": object(
                ["from": string, "to": string, "type": string, "weight": number, "created_at": ["type": "string", "format": "date-time"]],
                required: ["from", "to", "type", "weight", "created_at"]),
            "Payload": anyObject,
            "ScoredPayload": object(["payload": anyObject, "score": number], required: ["payload", "score"]),
            "Health": health,
        ]
        let recallBody = object(
            [
                "query": string, "top_k": topK, "type": ref("MemoryType"), "filters": filters, "hybrid": boolean, "exact": boolean,
                "case_sensitive": boolean,
            ], required: ["query"], additional: true)
        let weight: Schema = ["type": "number", "minimum": 0]
        let coordQuery: Schema = ["type": "string", "pattern": coordText]
        let limit: Schema = ["type": "integer", "minimum": 1, "maximum": 1000]
        let ok: Schema = object(["ok": boolean], required: ["ok"])
        let notFound: [String: Schema] = ["404": response("No such memory", ref("Error"))]

        let paths: [String: Any] = [
            "/v1/memories": [
                "post": operation(
                    "Store memory", body: ref("StoreItem"), ok: ("Updated", ref("Memory")), extra: ["201": response("Created", ref("Memory"))]),
                "get": operation(
                    "List memories", query: [("cursor", string, false), ("limit", limit, false), ("type", memoryType, false)],
                    ok: (
                        "A page",
                        object(["items": array(ref("Memory")), "next_cursor": ["type": ["string", "null"]]], required: ["items", "next_cursor"])
                    )),
            ],
            "/v1/memories/bulk": [
                "post": operation(
                    "Store memories in bulk", body: object(["items": array(ref("StoreItem"), maxItems: 1000)], required: ["items"]),
                    ok: (
                        "Stored",
                        object(
                            [
                                "stored": integer,
                                "memories": array(
                                    object(["coord": string, "id": string, "version": integer], required: ["coord", "id", "version"])),
                            ], required: ["stored", "memories"])
                    ))
            ],
            "/v1/memories/delete": [
                "post": operation(
                    "Delete memories", body: object(["coords": array(ref("Coordinate"), maxItems: 1000)], required: ["coords"]),
                    ok: ("How many existed", object(["deleted": integer], required: ["deleted"])))
            ],
            "/v1/memories/search": [
                "post": operation(
                    "Search memories",
                    body: object(
                        [
                            "query": string, "top_k": topK, "mode": ["type": "string", "enum": ["vector", "keyword", "hybrid"]],
                            "type": ref("MemoryType"),
                            "filters": filters, "min_score": number, "exact": boolean, "case_sensitive": boolean, "context": anyObject,
                            "keyword_weight": ["type": "number", "minimum": 0, "maximum": 1],
                            "fusion": ["type": "string", "enum": ["weighted", "rrf"]],
                        ], required: ["query"]), ok: ("Hits, best first", object(["results": array(ref("ScoredMemory"))], required: ["results"])))
            ],
            "/v1/memories/range": [
                "get": operation(
                    "Memories in a box",
                    query: [("min", coordQuery, true), ("max", coordQuery, true), ("type", memoryType, false), ("limit", limit, false)],
                    ok: ("Memories", object(["items": array(ref("Memory"))], required: ["items"])))
            ],
            "/v1/memories/{coord}": [
                "get": operation("Get memory", path: ["coord"], ok: ("The memory", ref("Memory")), extra: notFound),
                "patch": operation(
                    "Set importance", body: object(["importance": number], required: ["importance"]), path: ["coord"], ok: ("Updated", ref("Memory")),
                    extra: notFound),
                "delete": operation(
                    "Delete memory", path: ["coord"], ok: ("Deleted", object(["deleted": integer], required: ["deleted"])), extra: notFound),
            ],
            "/v1/links": [
                "post": operation(
                    "Link memories",
                    body: object(
                        [
                            "from": ref("Coordinate"), "to": ref("Coordinate"), "type": ["type": "string", "minLength": 1, "maxLength": 64],
                            "weight": weight,
                        ], required: ["from", "to"]),
                    ok: ("Linked", ref("Link")), okStatus: "201", extra: notFound)
            ],
            "/v1/links/neighbors": [
                "get": operation(
                    "Neighbours",
                    query: [
                        ("coord", coordQuery, true), ("direction", ["type": "string", "enum": ["out", "in"]], false), ("type", string, false),
                        ("limit", limit, false),
                    ],
                    ok: ("Outgoing links (or, direction=in, incoming)", object(["neighbors": array(ref("Link"))], required: ["neighbors"])),
                    extra: notFound)
            ],
            "/v1/links/path": [
                "get": operation(
                    "Shortest path",
                    query: [
                        ("from", coordQuery, true), ("to", coordQuery, true), ("type", string, false),
                        ("max_depth", ["type": "integer", "minimum": 1, "maximum": 16], false),
                    ],
                    ok: (
                        "The cheapest path",
                        object(
                            ["found": boolean, "path": array(string), "total_weight": ["type": ["number", "null"]]],
                            required: ["found", "path", "total_weight"])
                    ), extra: notFound)
            ],
            "/v1/export": [
                "get": [
                    "summary": "Export", "operationId": "export",
                    "parameters": [
                        ["name": "X-Soma-Namespace", "in": "header", "required": false, "schema": string],
                        ["name": "vectors", "in": "query", "required": false, "schema": boolean],
                    ],
                    "responses": errorResponses.merging([
                        "200": [
                            "description": "JSON Lines: a header line, one line per memory, one per link (README: backups)",
                            "content": ["application/x-ndjson": ["schema": string]],
                        ]
                    ]) { a, _ in a },
                ] as Schema
            ],
            "/v1/import": [
                "post": operation(
                    "Import", body: string, bodyType: "application/x-ndjson",
                    ok: (
                        "Imported: memories and links written, lines already held exactly",
                        object(
                            ["imported": integer, "links": integer, "unchanged": integer, "vectors_reused": integer],
                            required: ["imported", "links", "unchanged", "vectors_reused"])
                    ))
            ],
            "/v1/stats": [
                "get": operation(
                    "Stats",
                    ok: (
                        "Counts",
                        object(
                            ["namespace": string, "total": integer, "episodic": integer, "semantic": integer],
                            required: ["namespace", "total", "episodic", "semantic"])
                    ))
            ],
            "/store": ["post": operation("Legacy store", body: ref("LegacyStoreItem"), ok: ("Stored", ok))],
            "/store_bulk": [
                "post": operation(
                    "Legacy store bulk", body: object(["items": array(ref("LegacyStoreItem"), maxItems: 1000)], required: ["items"]),
                    ok: ("Stored", object(["stored": integer], required: ["stored"])))
            ],
            "/recall": [
                "post": operation(
                    "Legacy recall", body: recallBody, ok: ("Payloads", object(["matches": array(ref("Payload"))], required: ["matches"]))),
                "get": operation(
                    "Legacy recall get",
                    query: [
                        ("query", string, true), ("top_k", topK, false), ("type", memoryType, false), ("filters", string, false),
                        ("hybrid", boolean, false),
                    ],
                    ok: ("Payloads", object(["matches": array(ref("Payload"))], required: ["matches"]))),
            ],
            "/recall_batch": [
                "post": operation(
                    "Legacy recall batch",
                    body: object(
                        ["queries": array(string, maxItems: 1000), "top_k": topK, "type": ref("MemoryType"), "filters": filters, "hybrid": boolean],
                        required: ["queries"]),
                    ok: ("One list per query", object(["batches": array(array(ref("Payload")))], required: ["batches"])))
            ],
            // The original's document has these two take query-string arguments; its clients also sent
            // bodies. With `query` in the query string, that form wins (and the body is the context).
            "/recall_with_scores": [
                "post": operation(
                    "Legacy recall with scores", body: recallBody, query: legacyQueryForm,
                    ok: ("Scored", object(["results": array(ref("ScoredPayload"))], required: ["results"])))
            ],
            "/recall_with_context": [
                "post": operation(
                    "Legacy recall with context",
                    body: object(["query": string, "context": anyObject, "top_k": topK, "type": ref("MemoryType")], required: ["query", "context"]),
                    query: legacyQueryForm, ok: ("Payloads", object(["results": array(ref("Payload"))], required: ["results"])))
            ],
            "/keyword_search": [
                "post": operation(
                    "Legacy keyword search",
                    body: object(
                        [
                            "term": ["type": "string", "minLength": 1], "exact": boolean, "case_sensitive": boolean, "top_k": topK,
                            "type": ref("MemoryType"),
                        ], required: ["term"]),
                    ok: ("Payloads", object(["results": array(ref("Payload"))], required: ["results"])))
            ],
            "/hybrid_recall_with_scores": [
                "post": operation(
                    "Legacy hybrid recall",
                    body: object(
                        [
                            "query": string, "terms": array(string), "boost": weight, "top_k": topK, "exact": boolean, "case_sensitive": boolean,
                            "type": ref("MemoryType"),
                        ], required: ["query"]),
                    ok: ("Scored", object(["results": array(ref("ScoredPayload"))], required: ["results"])))
            ],
            "/range": [
                "get": operation(
                    "Legacy range", query: [("min", coordQuery, true), ("max", coordQuery, true), ("type", memoryType, false)],
                    ok: ("Coordinates", object(["coords": array(array(number))], required: ["coords"])))
            ],
            "/link": [
                "post": operation(
                    "Legacy link",
                    body: object(
                        [
                            "from_coord": ref("Coordinate"), "to_coord": ref("Coordinate"),
                            "type": ["type": "string", "minLength": 1, "maxLength": 64], "weight": weight,
                        ], required: ["from_coord", "to_coord"]),
                    ok: ("Linked", ok), extra: notFound)
            ],
            "/neighbors": [
                "get": operation(
                    "Legacy neighbors", query: [("coord", coordQuery, true), ("link_type", string, false), ("limit", limit, false)],
                    ok: ("[coordinate, edge] pairs, as the original answered", object(["neighbors": array(legacyNeighbor)], required: ["neighbors"])))
            ],
            "/shortest_path": [
                "get": operation(
                    "Legacy shortest path", query: [("frm", coordQuery, true), ("to", coordQuery, true), ("link_type", string, false)],
                    ok: ("Path, empty when none", object(["path": array(array(number))], required: ["path"])))
            ],
            "/stats": [
                "get": operation(
                    "Legacy stats",
                    ok: (
                        "Counts",
                        object(
                            ["total_memories": integer, "episodic": integer, "semantic": integer],
                            required: ["total_memories", "episodic", "semantic"])
                    ))
            ],
            "/": [
                "get": operation(
                    "Root", ok: ("The original's greeting", object(["message": string, "metrics": string], required: ["message", "metrics"])),
                    open: true)
            ],
            "/health": ["get": operation("Health", ok: ("Backend status", ref("Health")), open: true)],
            "/healthz": ["get": operation("Liveness", ok: ("The process answers; the body says which backends are up", ref("Health")), open: true)],
            "/readyz": [
                "get": operation(
                    "Readiness", ok: ("Ready", ref("Health")), extra: ["503": response("A required backend is down", ref("Health"))], open: true)
            ],
            "/metrics": [
                "get": [
                    "summary": "Prometheus metrics", "operationId": "metrics", "security": [[String: Any]](),
                    "responses": ["200": ["description": "Prometheus text format", "content": ["text/plain": ["schema": string]]]],
                ] as Schema
            ],
            "/openapi.json": [
                "get": [
                    "summary": "This document", "operationId": "openapi", "security": [[String: Any]](),
                    "responses": ["200": response("OpenAPI 3.1", anyObject)],
                ] as Schema
            ],
        ]
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "SomaFractalMemory", "version": "0.1.0",
                "description": "Long-term memory for AI agents: store JSON memories at coordinates, recall them by meaning, words, range and links.",
            ],
            "servers": [["url": "/"]],
            "security": [["bearer": [String]()]],
            "paths": paths,
            "components": ["schemas": schemas, "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]]],
        ]
    }
}
