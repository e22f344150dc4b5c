import Foundation

/// JSON coders for everything the service writes out (events, exports, responses): RFC 3339 times.
public enum SomaJSON {
    public static func encoder(sortedKeys: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        if sortedKeys { encoder.outputFormatting = [.sortedKeys] }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }
}

/// RFC 3339 times with fractional seconds in UTC, parsed with or without the fraction.
public enum RFC3339 {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    /// To the nearest millisecond: the format style truncates, and a time read back from its own
    /// text is a hair below it (`.918` parses to `.91799...`), so truncation would lose a millisecond
    /// on every round trip (a backup restored and exported again must read the same).
    public static func string(from date: Date) -> String {
        withFraction.format(date.addingTimeInterval(0.0005))
    }

    public static func date(from text: String) -> Date? {
        (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
    }
}
