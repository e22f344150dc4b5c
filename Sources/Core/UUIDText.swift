import Foundation

extension UUID {
    /// Parses the 36-character form (`8-4-4-4-12` hex digits, either case), as `UUID(uuidString:)`
    /// does, without its `sscanf` per byte: that was a third of reading a million stored ids.
    public init?(parsing text: String) {
        var text = text
        guard let parsed = text.withUTF8(UUID.init(parsingUTF8:)) else { return nil }
        self = parsed
    }

    /// `init(parsing:)` on the text's UTF-8 bytes (a column as SQLite holds it, no String made).
    public init?(parsingUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        guard withUnsafeMutableBytes(of: &raw, { Self.parse(bytes, into: $0) }) else { return nil }
        self.init(uuid: raw)
    }

    /// The 36-character form, as `uuidString` writes it (upper case) or in lower case, without its
    /// `sprintf` (0.4 µs an id, and a recall writes dozens: keys, cache keys, answers).
    public func text(lowercase: Bool) -> String {
        let digits = lowercase ? Self.lowerDigits : Self.upperDigits
        return withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { text in
                var at = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    text[at] = digits[Int(byte >> 4)]
                    text[at + 1] = digits[Int(byte & 0x0f)]
                    at += 2
                }
                return at
            }
        }
    }

    private static let lowerDigits = Array("0123456789abcdef".utf8)
    private static let upperDigits = Array("0123456789ABCDEF".utf8)

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, into raw: UnsafeMutableRawBufferPointer) -> Bool {
        guard bytes.count == 36 else { return false }
        var at = 0
        for index in 0..<16 {
            if at == 8 || at == 13 || at == 18 || at == 23 {
                guard bytes[at] == UInt8(ascii: "-") else { return false }
                at += 1
            }
            guard let high = hexValue(bytes[at]), let low = hexValue(bytes[at + 1]) else { return false }
            raw[index] = high << 4 | low
            at += 2
        }
        return true
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
