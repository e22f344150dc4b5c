import Foundation

/// A point in memory space, such as `1,2,3`. Its canonical text is the numbers in
/// shortest round-trip form joined by `,`, so equal points always print the same way.
public struct Coordinate: Hashable, Sendable, CustomStringConvertible {
    public static let defaultMaxDimensions = 32

    public let values: [Double]

    public init(_ values: [Double], maxDimensions: Int = Coordinate.defaultMaxDimensions) throws(CoordinateError) {
        guard !values.isEmpty else { throw .empty }
        guard values.count <= maxDimensions else { throw .tooManyDimensions(values.count, max: maxDimensions) }
        for (index, value) in values.enumerated() where !value.isFinite {
            throw .notFinite(position: index + 1)
        }
        // -0 and 0 are the same point.
        self.values = values.map { $0 == 0 ? 0 : $0 }
    }

    /// Parses text such as `"1, 2.5,-3"`.
    public init(parsing text: String, maxDimensions: Int = Coordinate.defaultMaxDimensions) throws(CoordinateError) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 1, parts[0].isEmpty { throw .empty }
        guard parts.count <= maxDimensions else { throw .tooManyDimensions(parts.count, max: maxDimensions) }
        var numbers: [Double] = []
        numbers.reserveCapacity(parts.count)
        for (index, part) in parts.enumerated() {
            guard Self.looksNumeric(part), let value = Double(part) else {
                throw .notNumeric(position: index + 1, text: String(part.prefix(40)))
            }
            numbers.append(value)
        }
        try self.init(numbers, maxDimensions: maxDimensions)
    }

    public var dimensions: Int { values.count }

    public var canonical: String {
        values.map(Self.format).joined(separator: ",")
    }

    public var description: String { canonical }

    /// Inclusive bounding-box test; points of another dimension are never inside.
    public func isInside(min lower: Coordinate, max upper: Coordinate) -> Bool {
        guard values.count == lower.values.count, values.count == upper.values.count else { return false }
        for index in values.indices where values[index] < lower.values[index] || values[index] > upper.values[index] {
            return false
        }
        return true
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return "\(value)"
    }

    /// `Double("nan")`, `Double("inf")` and hex floats parse in Swift; a coordinate takes decimal numbers only.
    private static func looksNumeric(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        return text.unicodeScalars.allSatisfy { "0123456789+-.eE".unicodeScalars.contains($0) }
    }
}

public enum CoordinateError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case notNumeric(position: Int, text: String)
    case notFinite(position: Int)
    case tooManyDimensions(Int, max: Int)
    case dimensionMismatch(Int, Int)

    public var description: String {
        switch self {
        case .empty: "coordinate is empty"
        case .notNumeric(let position, let text): "coordinate value \(position) is not a number: '\(text)'"
        case .notFinite(let position): "coordinate value \(position) is not finite (NaN or infinity)"
        case .tooManyDimensions(let count, let max): "coordinate has \(count) dimensions; at most \(max) are allowed"
        case .dimensionMismatch(let a, let b): "coordinates have different dimensions (\(a) and \(b))"
        }
    }
}
