import Foundation
import SomaCore
import Testing

/// One named behaviour every backend of a capability must show. Backend test targets run the whole
/// list with `@Test(arguments:)`, so each check is reported on its own.
public struct ConformanceCheck<Subject: Sendable>: Sendable, CustomTestStringConvertible {
    public let name: String
    public let run: @Sendable (Subject) async throws -> Void

    public init(_ name: String, _ run: @escaping @Sendable (Subject) async throws -> Void) {
        self.name = name
        self.run = run
    }

    public var testDescription: String { name }
}

/// Fresh names per check, so suites can share one database without seeing each other's data.
public enum Fixture {
    public static func namespace(_ label: String = "ns") -> String {
        "\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    public static func coordinate(_ values: Double...) -> Coordinate {
        try! Coordinate(values)
    }

    public static func draft(_ namespace: String, _ coordinate: Coordinate, _ payload: JSONObject, type: MemoryType = .episodic) -> MemoryDraft {
        MemoryDraft(namespace: namespace, coordinate: coordinate, type: type, payload: payload)
    }

    /// A whole-second time, so backends that store milliseconds round-trip it exactly.
    public static var now: Date { Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)) }
}
