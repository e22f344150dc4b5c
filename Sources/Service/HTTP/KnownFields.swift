import SomaCore

/// The /v1 routes refuse a field their OpenAPI document does not name (`additionalProperties:
/// false`), so a misspelt `"improtance"` or `"topk"` is an error naming it rather than a silently
/// ignored value. The document is the one the service publishes; the original's routes stay lenient.
enum KnownFields {
    /// The published document, read once.
    private static let document = (try? JSONReader.value(OpenAPIDocument.json)) ?? .object([:])

    /// The JSON request body's schema of an operation (`post`, `/v1/memories`), or nil.
    static func bodySchema(_ method: String, _ path: String) -> JSONValue? {
        document["paths"]?[path]?[method]?["requestBody"]?["content"]?["application/json"]?["schema"]
    }

    /// A field the schema does not name: where (`items[2].improtance`) and the names it takes there.
    struct Unknown: Equatable {
        var path: String
        var known: [String]

        var message: String { "unknown field '\(path)'; the fields here are: \(known.joined(separator: ", "))" }
    }

    /// The first field of `value` that `schema` does not name.
    static func unknown(in value: JSONValue, _ schema: JSONValue, at path: String = "") -> Unknown? {
        let schema = resolved(schema)
        switch value {
        case .object(let object):
            if case .array(let alternatives)? = schema["oneOf"] ?? schema["anyOf"] {
                let found = alternatives.map { unknown(in: value, $0, at: path) }
                return found.contains { $0 == nil } ? nil : found.first ?? nil
            }
            guard case .object(let properties)? = schema["properties"] else { return nil }
            let closed = schema["additionalProperties"] == .bool(false)
            for key in object.keys.sorted() {
                let field = path.isEmpty ? key : "\(path).\(key)"
                guard let property = properties[key] else {
                    if closed { return Unknown(path: field, known: properties.keys.sorted()) }
                    continue
                }
                if let inner = unknown(in: object[key]!, property, at: field) { return inner }
            }
            return nil
        case .array(let items):
            guard let itemSchema = schema["items"] else { return nil }
            for (index, item) in items.enumerated() {
                if let inner = unknown(in: item, itemSchema, at: "\(path)[\(index)]") { return inner }
            }
            return nil
        default:
            return nil
        }
    }

    private static func resolved(_ schema: JSONValue) -> JSONValue {
        guard case .string(let reference)? = schema["$ref"] else { return schema }
        return document["components"]?["schemas"]?[String(reference.split(separator: "/").last ?? "")] ?? .object([:])
    }
}
