import Foundation

/// A directed, typed, weighted edge between two memories of one namespace.
/// In path finding the weight is the cost of taking the link.
public struct Link: Sendable, Equatable, Codable {
    public var from: Coordinate
    public var to: Coordinate
    public var type: String
    public var weight: Double
    public var createdAt: Date

    public static let defaultType = "related"
    public static let defaultWeight = 1.0

    public init(from: Coordinate, to: Coordinate, type: String = Link.defaultType, weight: Double = Link.defaultWeight, createdAt: Date = Date()) {
        self.from = from
        self.to = to
        self.type = type
        self.weight = weight
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case from, to, type, weight
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            from = try Coordinate(try container.decode([Double].self, forKey: .from))
            to = try Coordinate(try container.decode([Double].self, forKey: .to))
        } catch let error as CoordinateError {
            throw DecodingError.dataCorruptedError(forKey: .from, in: container, debugDescription: error.description)
        }
        type = try container.decode(String.self, forKey: .type)
        weight = try container.decode(Double.self, forKey: .weight)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from.values, forKey: .from)
        try container.encode(to.values, forKey: .to)
        try container.encode(type, forKey: .type)
        try container.encode(weight, forKey: .weight)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// Which links of a memory: those it points to, or those pointing at it.
public enum LinkDirection: String, Sendable, CaseIterable {
    case outgoing = "out"
    case incoming = "in"
}
