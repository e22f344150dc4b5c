import Foundation
import Hummingbird
import SomaCore

/// A coordinate as clients send it: text (`"1,2,3"`) or an array of numbers (`[1, 2, 3]`).
struct CoordinateInput: Decodable, Sendable {
    enum Raw: Sendable {
        case text(String)
        case numbers([Double])
    }

    let raw: Raw

    init(text: String) { raw = .text(text) }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            raw = .text(text)
        } else if let numbers = try? container.decode([Double].self) {
            raw = .numbers(numbers)
        } else {
            throw DecodingError.typeMismatch(
                String.self, .init(codingPath: decoder.codingPath, debugDescription: "a coordinate is a string like \"1,2,3\" or an array of numbers")
            )
        }
    }

    func resolve(maxDimensions: Int) throws -> Coordinate {
        do {
            switch raw {
            case .text(let text): return try Coordinate(parsing: text, maxDimensions: maxDimensions)
            case .numbers(let numbers): return try Coordinate(numbers, maxDimensions: maxDimensions)
            }
        } catch {
            throw APIError.badRequest("invalid_coordinate", error.description)
        }
    }
}

enum InputCheck {
    static func memoryType(_ text: String?, default fallback: MemoryType? = nil) throws -> MemoryType? {
        guard let text, !text.isEmpty else { return fallback }
        guard let type = MemoryType(rawValue: text.lowercased()) else {
            throw APIError.badRequest("invalid_type", "type must be 'episodic' or 'semantic', not '\(text.prefix(40))'")
        }
        return type
    }

    static func topK(_ value: Int?, default fallback: Int = 5) -> Int { value ?? fallback }

    static func finite(_ value: Double?, _ name: String) throws -> Double? {
        guard let value else { return nil }
        guard value.isFinite else { throw APIError.badRequest("invalid_number", "\(name) must be a finite number") }
        return value
    }

    /// Expiry from either `ttl_seconds` (relative) or `expires_at` (RFC 3339).
    static func expiry(ttlSeconds: Double?, expiresAt: String?, now: Date = Date()) throws -> Date? {
        if let ttlSeconds {
            guard ttlSeconds.isFinite, ttlSeconds > 0, ttlSeconds <= 100 * 365 * 86_400 else {
                throw APIError.badRequest("invalid_ttl", "ttl_seconds must be a positive number of seconds (at most 100 years)")
            }
            return now.addingTimeInterval(ttlSeconds)
        }
        if let expiresAt {
            guard let date = RFC3339.date(from: expiresAt) else {
                throw APIError.badRequest("invalid_expires_at", "expires_at must be an RFC 3339 time such as 2030-01-01T00:00:00Z")
            }
            return date
        }
        return nil
    }
}

/// Query-string access with typed errors.
struct QueryParameters {
    let values: [String: String]

    init(_ request: Request) {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where values[String(key)] == nil {
            values[String(key)] = String(value)
        }
        self.values = values
    }

    func string(_ name: String) -> String? {
        values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    func required(_ name: String) throws -> String {
        guard let value = string(name) else { throw APIError.badRequest("missing_parameter", "query parameter '\(name)' is required") }
        return value
    }

    func int(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else { throw APIError.badRequest("invalid_parameter", "query parameter '\(name)' must be an integer") }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = string(name)?.lowercased() else { return nil }
        switch text {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw APIError.badRequest("invalid_parameter", "query parameter '\(name)' must be true or false")
        }
    }

    func coordinate(_ name: String, maxDimensions: Int) throws -> Coordinate {
        try CoordinateInput(text: try required(name)).resolve(maxDimensions: maxDimensions)
    }
}
