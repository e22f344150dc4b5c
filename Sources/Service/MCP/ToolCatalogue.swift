import MCP
import SomaCore

/// The tools as a model sees them: names, what each is for, and the JSON Schema of its input.
enum ToolCatalogue {
    static let coordinate: Value = .object([
        "description": "Where the memory lives: numbers as \"1,2,3\" or [1, 2, 3].",
        "anyOf": [.object(["type": "string"]), .object(["type": "array", "items": .object(["type": "number"]), "minItems": 1])],
    ])
    static let memoryTypes: Value = .array(MemoryType.allCases.map { .string($0.rawValue) })
    static let memoryType: Value = .object([
        "type": "string", "enum": memoryTypes, "description": "episodic: an event or conversation; semantic: a durable fact.",
    ])

    // What a call without the argument gets: the tools apply these, the schemas state them.
    static let storeType = MemoryType.episodic
    static let recallTopK = 5
    static let recallMode = SearchMode.hybrid

    /// An argument's schema with its default, stated twice: in words for a model that reads the
    /// description, and as JSON Schema's `default` for a client that fills forms.
    static func defaulted(_ text: String, _ schema: [String: Value], default value: Value) -> Value {
        let shown: String =
            switch value {
            case .string(let text): text
            case .int(let number): String(number)
            case .double(let number): number.rounded() == number ? String(Int(number)) : String(number)
            default: "\(value)"
            }
        return describe("\(text) (default \(shown)).", schema.merging(["default": value]) { $1 })
    }

    static func schema(_ properties: [String: Value], required: [String] = []) -> Value {
        .object(["type": "object", "properties": .object(properties), "required": .array(required.map(Value.string)), "additionalProperties": false])
    }

    static func describe(_ text: String, _ schema: [String: Value]) -> Value {
        .object(schema.merging(["description": .string(text)]) { $1 })
    }

    static let tools: [Tool] = [
        Tool(
            name: "store_memory",
            description: "Remember something for later: a text, or a JSON payload, optionally at a coordinate you choose "
                + "(storing at an existing coordinate updates that memory). Returns the stored memory with its coordinate.",
            inputSchema: schema([
                "text": describe("What to remember, in plain words.", ["type": "string"]),
                "payload": describe("Structured content to remember (merged with text under \"text\").", ["type": "object"]),
                "coordinate": coordinate,
                "type": defaulted(
                    "episodic: an event or conversation; semantic: a durable fact", ["type": "string", "enum": memoryTypes],
                    default: .string(storeType.rawValue)),
                "importance": defaulted("Higher is more important; any number", ["type": "number"], default: .double(Importance.defaultRaw)),
                "ttl_seconds": describe("Forget it after this many seconds.", ["type": "number", "exclusiveMinimum": 0]),
            ])),
        Tool(
            name: "recall",
            description: "Find memories relevant to a question or topic, best first, each with its score. Use before answering "
                + "anything the user may have told you earlier. Hybrid scores run from 0 to 1: half from meaning (cosine "
                + "similarity), half from words (the share of the question's words the memory holds, squared; rare words such "
                + "as names, codes and dates weigh most); a memory whose text equals the question scores 1. A question nothing "
                + "answers usually tops out below 0.2; answers sharing words with the question usually score above 0.35.",
            inputSchema: schema(
                [
                    "query": describe("The question or topic, in words.", ["type": "string", "minLength": 1]),
                    "top_k": defaulted(
                        "How many memories to return", ["type": "integer", "minimum": 1, "maximum": 100], default: .int(recallTopK)),
                    "mode": defaulted(
                        "hybrid: meaning and words; vector: meaning only (score: cosine similarity); "
                            + "keyword: words only (\"quoted phrase\" must appear as written)",
                        ["type": "string", "enum": .array(SearchMode.allCases.map { .string($0.rawValue) })], default: .string(recallMode.rawValue)),
                    "min_score": describe("Leave out memories scoring below this (hybrid and keyword scores are 0 to 1).", ["type": "number"]),
                    "type": memoryType,
                    "filters": describe("Only memories whose payload has these field values, e.g. {\"project\": \"apollo\"}.", ["type": "object"]),
                ], required: ["query"])),
        Tool(
            name: "get_memory", description: "Read one memory by its coordinate.",
            inputSchema: schema(["coordinate": coordinate], required: ["coordinate"])),
        Tool(
            name: "update_memory",
            description: "Change a memory: new text or payload replaces its content (a new version); importance alone is set in place.",
            inputSchema: schema(
                [
                    "coordinate": coordinate, "text": .object(["type": "string"]), "payload": .object(["type": "object"]),
                    "importance": .object(["type": "number"]),
                ], required: ["coordinate"])),
        Tool(
            name: "forget_memory", description: "Delete a memory for good.", inputSchema: schema(["coordinate": coordinate], required: ["coordinate"])
        ),
        Tool(
            name: "link_memories",
            description: "Connect two memories with a directed, typed link (for example \"causes\", \"part_of\", \"related\"); "
                + "the weight is the cost of following it.",
            inputSchema: schema(
                [
                    "from": coordinate, "to": coordinate,
                    "type": defaulted("The kind of link", ["type": "string", "minLength": 1, "maxLength": 64], default: .string(Link.defaultType)),
                    "weight": defaulted("Cost of the hop, >= 0", ["type": "number", "minimum": 0], default: .double(Link.defaultWeight)),
                ], required: ["from", "to"])),
        Tool(
            name: "neighbours",
            description: "The memories a memory links to, with each link's type and weight.",
            inputSchema: schema(
                [
                    "coordinate": coordinate, "link_type": .object(["type": "string"]),
                    "limit": .object(["type": "integer", "minimum": 1, "maximum": 1000]),
                ], required: ["coordinate"])),
        Tool(
            name: "shortest_path",
            description: "The cheapest chain of links from one memory to another, if there is one.",
            inputSchema: schema(
                [
                    "from": coordinate, "to": coordinate, "link_type": .object(["type": "string"]),
                    "max_depth": .object(["type": "integer", "minimum": 1, "maximum": 16]),
                ], required: ["from", "to"])),
        Tool(name: "stats", description: "How many memories this namespace holds, by type.", inputSchema: schema([:])),
    ]
}
