import Foundation

/// One memory line of an import, in the export format (a `Memory` as JSON). Its id and namespace
/// are the importing namespace's; its times and version are kept when the file is a backup with a
/// header (`ExportFormat`), assigned anew otherwise.
struct ImportRecord: Decodable {
    var coordinate: [Double]
    var type: MemoryType?
    var payload: JSONObject
    var importance: Double?
    var expiresAt: Date?
    var createdAt: Date?
    var updatedAt: Date?
    var version: Int?
    /// Carried by a backup made with vectors (`soma export --vectors`), with the model that made it.
    var vector: [Float]?
    var embeddingModel: String?

    enum CodingKeys: String, CodingKey {
        case coordinate, type, payload, importance, version, vector
        case expiresAt = "expires_at", createdAt = "created_at", updatedAt = "updated_at", embeddingModel = "embedding_model"
    }

    func draft(namespace: String, maxDimensions: Int, restoring: Bool) throws -> MemoryDraft {
        let coordinate: Coordinate
        do {
            coordinate = try Coordinate(self.coordinate, maxDimensions: maxDimensions)
        } catch {
            throw EngineError.invalid(error.description)
        }
        var draft = MemoryDraft(
            namespace: namespace, coordinate: coordinate, type: type ?? .episodic, payload: payload,
            importance: importance ?? Importance.defaultRaw,
            expiresAt: expiresAt)
        if restoring {
            guard let createdAt, let updatedAt, let version, version >= 1 else {
                throw EngineError.invalid("a backup's memory needs created_at, updated_at and a version of 1 or more")
            }
            draft.restored = RestoredStamps(createdAt: createdAt, updatedAt: updatedAt, version: version)
        }
        return draft
    }
}
