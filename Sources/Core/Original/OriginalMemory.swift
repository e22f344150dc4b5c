import Foundation

/// A memory as the original service kept it: one JSON object holding the caller's payload fields
/// beside the ones the original added (`coordinate`, `memory_type`, `timestamp`, and `links` in
/// its key-value rows). The same shape is what its `kv_store` `:data` rows hold, what its JSON
/// Lines export wrote, and what its events carried as `payload`; this turns one into a draft.
public enum OriginalMemory {
    /// Fields the original added to a payload; the draft carries them as its own fields instead.
    static let addedFields: Set<String> = ["coordinate", "memory_type", "timestamp", "links"]

    public struct Refused: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The draft for an original memory value. `coordinate` overrides the value's own (a
    /// `kv_store` key names it too); importance comes from the payload's `importance`, as the
    /// original read it.
    public static func draft(
        _ value: JSONValue, namespace: String, coordinate: [Double]? = nil, maxDimensions: Int = Coordinate.defaultMaxDimensions
    ) throws(Refused) -> MemoryDraft {
        guard case .object(let fields) = value else { throw Refused("a memory is a JSON object") }
        guard let values = coordinate ?? fields["coordinate"].flatMap(coordinateValues) else {
            throw Refused("no coordinate: neither the key nor the value's 'coordinate' (a list of numbers or \"1,2,3\") names one")
        }
        let place: Coordinate
        do {
            place = try Coordinate(values, maxDimensions: maxDimensions)
        } catch {
            throw Refused("coordinate \(values): \(error.description)")
        }
        let type: MemoryType
        switch fields["memory_type"] {
        case nil, .null: type = .episodic
        case .string(let name)?:
            guard let known = MemoryType(rawValue: name.lowercased()) else { throw Refused("memory_type '\(name)' is neither episodic nor semantic") }
            type = known
        default: throw Refused("memory_type is not a string")
        }
        let importance = fields["importance"]?.doubleValue ?? Importance.defaultRaw
        guard importance.isFinite else { throw Refused("importance is not a finite number") }
        let payload = fields.filter { !addedFields.contains($0.key) }
        var draft = MemoryDraft(namespace: namespace, coordinate: place, type: type, payload: payload, importance: importance)
        // The original's time (seconds since 1970) is the memory's history: kept as its created and updated time.
        if let seconds = fields["timestamp"]?.doubleValue, seconds.isFinite, seconds > 0 {
            let time = Date(timeIntervalSince1970: seconds)
            draft.restored = RestoredStamps(createdAt: time, updatedAt: time)
        }
        return draft
    }

    /// The links the original kept inside a memory's value: `[{"to": [..], "type", "weight", "timestamp"}]`.
    public static func links(_ value: JSONValue, from: Coordinate, maxDimensions: Int = Coordinate.defaultMaxDimensions) throws(Refused) -> [Link] {
        guard case .array(let items)? = value["links"] else { return [] }
        return try items.map { item throws(Refused) -> Link in
            guard let target = item["to"].flatMap(coordinateValues), let to = try? Coordinate(target, maxDimensions: maxDimensions) else {
                throw Refused("a link without a valid 'to' coordinate")
            }
            let weight = item["weight"]?.doubleValue ?? 1
            guard weight.isFinite, weight >= 0 else { throw Refused("a link's weight must be a finite number >= 0") }
            let created = item["timestamp"]?.doubleValue.map(Date.init(timeIntervalSince1970:)) ?? Date()
            let type: String = if case .string(let name)? = item["type"] { name } else { Link.defaultType }
            return Link(from: from, to: to, type: type, weight: weight, createdAt: created)
        }
    }

    /// `[1, 2.5]` or `"1,2.5"` (the original's two spellings of a coordinate).
    public static func coordinateValues(_ value: JSONValue) -> [Double]? {
        switch value {
        case .array(let items):
            let numbers = items.compactMap(\.doubleValue)
            return numbers.count == items.count && !numbers.isEmpty ? numbers : nil
        case .string(let text):
            return try? Coordinate(parsing: text).values
        default:
            return nil
        }
    }

    /// A `kv_store` key, `"<namespace>:<coordinate tuple repr>:data"` (or `:meta`), as
    /// (namespace, coordinate values): `api_ns:(1.0, -2.5):data`, `ns:(3,):data`.
    public static func parseKey(_ key: String) -> (namespace: String, coordinate: [Double])? {
        guard let suffix = [":data", ":meta"].first(where: key.hasSuffix) else { return nil }
        let body = key.dropLast(suffix.count)
        guard body.hasSuffix(")"), let open = body.range(of: ":(", options: .backwards) else { return nil }
        let namespace = String(body[..<open.lowerBound])
        var parts = body[open.upperBound..<body.index(before: body.endIndex)].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count > 1, parts.last == "" { parts.removeLast() }  // a 1-tuple's trailing comma
        let numbers = parts.compactMap { Double($0) }.filter(\.isFinite)
        guard !namespace.isEmpty, !parts.isEmpty, numbers.count == parts.count else { return nil }
        return (namespace, numbers)
    }
}
