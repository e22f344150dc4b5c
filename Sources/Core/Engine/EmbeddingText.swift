/// The text embedded for a memory: its payload's string values in a stable order (object keys
/// sorted, arrays in order), joined by spaces, rather than the raw JSON with its punctuation.
/// With `fields` set, only those top-level fields, in that order.
public enum EmbeddingText {
    public static func of(_ payload: JSONObject, fields: [String] = []) -> String {
        if fields.isEmpty {
            return JSONValue.object(payload).stringLeaves.joined(separator: " ")
        }
        return fields.compactMap { payload[$0] }.flatMap(\.stringLeaves).joined(separator: " ")
    }
}
