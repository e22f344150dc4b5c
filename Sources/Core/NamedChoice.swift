/// An enumeration read from JSON by name: a name outside it is refused with the names it accepts
/// ("'fuzzy' is not one of: vector, keyword, hybrid"), not with the decoder's wording.
public protocol NamedChoice: RawRepresentable<String>, CaseIterable, Decodable {}

extension NamedChoice {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(name)' is not one of: \(Self.choices)")
        }
        self = value
    }

    /// The accepted names, for messages: "vector, keyword, hybrid".
    public static var choices: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
