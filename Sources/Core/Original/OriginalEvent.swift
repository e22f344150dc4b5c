import Foundation

/// Events the original service's producer wrote (its `schemas/memory.event.json`): `event_id`,
/// `id`, `namespace`, `type` ("created", "updated" or "deleted"), `timestamp` (RFC 3339 or
/// seconds since the epoch) and the memory's `payload`. They announce a memory the original
/// wrote to its own store, so the consumer stores the payload here before indexing it: a
/// rolling migration with the original's producer still running loses nothing.
extension MemoryEvent {
    /// Reads either format: this build's events, or the original's when the object has none of
    /// this build's `event` and `coordinate` fields.
    public init(acceptingOriginal bytes: some Collection<UInt8>) throws {
        let value = try JSONReader.value(bytes)
        if value["event"] == nil, value["coordinate"] == nil, value["type"] != nil {
            try self.init(original: value)
        } else {
            try self.init(json: bytes)
        }
    }

    init(original value: JSONValue) throws {
        func malformed(_ problem: String) -> JSONReader.Malformed { JSONReader.Malformed(description: "original event: \(problem)") }
        guard case .string(let namespace)? = value["namespace"], Namespace.isValid(namespace) else {
            throw malformed("'namespace' is missing or invalid")
        }
        guard case .string(let eventType)? = value["type"] else { throw malformed("'type' is missing") }
        let kind: Kind =
            switch eventType.lowercased() {
            case "created": .created
            case "updated": .updated
            case "deleted": .deleted
            default: throw malformed("type '\(eventType)' is none of created, updated, deleted")
            }
        let timestamp: Date =
            switch value["timestamp"] {
            case .string(let text)?: try RFC3339.date(from: text).orThrow(malformed("'timestamp' is not RFC 3339"))
            case let number? where number.doubleValue != nil: Date(timeIntervalSince1970: number.doubleValue!)
            default: throw malformed("'timestamp' is missing")
            }
        let payload: JSONValue =
            switch value["payload"] {
            case .string(let text)?: .object(["text": .string(text)])
            case .object(let fields)?: .object(fields)
            default: throw malformed("'payload' must be an object (or a text) holding the memory and its coordinate")
            }
        var draft: MemoryDraft
        do {
            draft = try OriginalMemory.draft(payload, namespace: namespace)
        } catch {
            throw malformed(error.description)
        }
        if let importance = value["importance"]?.doubleValue, importance.isFinite { draft.importance = importance }
        // An event is a change happening now (its order is the stream's), not a record restored with its history.
        draft.restored = nil
        let eventID: UUID =
            if case .string(let text)? = value["event_id"], let id = UUID(uuidString: text) { id } else {
                MemoryID.uuid5(name: "original-event:\(value)")
            }
        self.init(
            eventID: eventID, kind: kind, id: MemoryID.make(namespace: namespace, coordinate: draft.coordinate), namespace: namespace,
            coordinate: draft.coordinate.values, type: draft.type, timestamp: timestamp, version: 0, payload: draft.payload,
            importance: draft.importance)
        originalDraft = draft
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
