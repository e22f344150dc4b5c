/// One sentence for a JSON decoding failure, naming the field and what was expected. Shared by
/// request bodies and imported lines, so both explain bad input the same way.
public enum DecodingProblem {
    /// nil when the input is not JSON at all (a syntax error rather than a schema mismatch).
    public static func describe(_ error: DecodingError) -> String? {
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "missing field '\(key.stringValue)'\(parent)"
        case .typeMismatch(let type, let context):
            return "\(path(context)) has the wrong type; expected \(expected(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null; expected \(expected(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? nil : "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "the input does not match the schema"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return text.isEmpty ? "body" : "'\(text)'"
    }

    private static func expected(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "a boolean"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : String(describing: type).hasPrefix("Dictionary") ? "an object" : "a value"
        }
    }
}
