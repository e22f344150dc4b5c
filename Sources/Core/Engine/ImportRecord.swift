import Foundation

/// One line of an import: the export format (a `Memory` as JSON), of which only the content is
/// kept; id, version and timestamps are assigned anew in the importing namespace.
struct ImportRecord: Decodable {
    var coordinate: [Double]
    var type: MemoryType?
    var payload: JSONObject
    var importance: Double?
    var expiresAt: Date?

    enum CodingKeys: String, CodingKey {
        case coordinate, type, payload, importance
        case expiresAt = "expires_at"
    }

    func draft(namespace: String, maxDimensions: Int) throws -> MemoryDraft {
        let coordinate: Coordinate
        do {
            coordinate = try Coordinate(self.coordinate, maxDimensions: maxDimensions)
        } catch {
            throw EngineError.invalid(error.description)
        }
        return MemoryDraft(
            namespace: namespace, coordinate: coordinate, type: type ?? .episodic, payload: payload,
            importance: importance ?? Importance.defaultRaw,
            expiresAt: expiresAt)
    }
}
