import Foundation

/// Reads JSON text the service wrote itself (stored payloads, cached records) into `JSONValue`s,
/// giving the values JSONDecoder gives for `JSONValue` (a number with an exact Int64 value is an
/// `int`, as "1.0" and "1e2" are) without its Codable machinery, which made reading a cached record
/// cost about 25 µs. Request bodies still go through JSONDecoder, whose errors name the field.
public enum JSONReader {
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Nesting deeper than this is refused rather than recursed into.
    public static let maxDepth = 512

    public static func value(_ bytes: some Collection<UInt8>) throws -> JSONValue {
        let parsed = try bytes.withContiguousStorageIfAvailable { try read($0) }
        return try parsed ?? Array(bytes).withUnsafeBufferPointer { try read($0) }
    }

    public static func value(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try read($0) }
    }

    /// A JSON object's fields.
    public static func object(_ text: String) throws -> JSONObject {
        try fields(of: value(text))
    }

    /// A JSON object's fields, from UTF-8 bytes (a stored column's, read in place).
    public static func object(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONObject {
        try fields(of: read(bytes))
    }

    private static func fields(of value: JSONValue) throws -> JSONObject {
        guard case .object(let fields) = value else { throw Malformed(description: "not a JSON object") }
        return fields
    }

    /// A JSON array of numbers.
    public static func numbers(_ text: String) throws -> [Double] {
        guard case .array(let items) = try value(text) else { throw Malformed(description: "not a JSON array") }
        let numbers = items.compactMap(\.doubleValue)
        guard numbers.count == items.count else { throw Malformed(description: "not an array of numbers") }
        return numbers
    }

    private static func read(_ buffer: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var cursor = Cursor(bytes: buffer)
        let value = try cursor.value(depth: 0)
        cursor.skipWhitespace()
        guard cursor.index == buffer.count else { throw cursor.malformed("text after the value") }
        return value
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        func malformed(_ what: String) -> Malformed { Malformed(description: "malformed JSON at byte \(index): \(what)") }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            skipWhitespace()
            guard index < bytes.count else { throw malformed("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"): return .object(try object(depth: depth + 1))
            case UInt8(ascii: "["): return .array(try array(depth: depth + 1))
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return try number()
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count, word.withUTF8Buffer({ $0.elementsEqual(bytes[index..<index + count]) }) else {
                throw malformed("expected \(word)")
            }
            index += count
        }

        mutating func expect(_ byte: UInt8) throws {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { throw malformed("expected \(Character(UnicodeScalar(byte)))") }
            index += 1
        }

        /// True, consuming it, when the next significant byte is `byte`.
        mutating func take(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func object(depth: Int) throws -> JSONObject {
            guard depth <= JSONReader.maxDepth else { throw malformed("nested too deeply") }
            index += 1
            var fields: JSONObject = [:]
            if take(UInt8(ascii: "}")) { return fields }
            repeat {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw malformed("expected a key") }
                let key = try string()
                try expect(UInt8(ascii: ":"))
                fields[key] = try value(depth: depth)
            } while take(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"))
            return fields
        }

        mutating func array(depth: Int) throws -> [JSONValue] {
            guard depth <= JSONReader.maxDepth else { throw malformed("nested too deeply") }
            index += 1
            var items: [JSONValue] = []
            if take(UInt8(ascii: "]")) { return items }
            repeat { items.append(try value(depth: depth)) } while take(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
            return items
        }

        mutating func string() throws -> String {
            index += 1
            let start = index
            // The common case: no escapes, the bytes are the string.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                guard bytes[index] >= 0x20 else { throw malformed("control character in a string") }
                index += 1
            }
            guard index < bytes.count else { throw malformed("unterminated string") }
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
            }
            var utf8 = Array(bytes[start..<index])
            while true {
                guard index < bytes.count else { throw malformed("unterminated string") }
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"): try escape(into: &utf8)
                case 0..<0x20: throw malformed("control character in a string")
                default: utf8.append(byte)
                }
            }
        }

        mutating func escape(into utf8: inout [UInt8]) throws {
            guard index < bytes.count else { throw malformed("unterminated escape") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw malformed("lone surrogate")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw malformed("lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw malformed("lone surrogate") }
                utf8.append(contentsOf: String(unicode).utf8)
            default: throw malformed("unknown escape")
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw malformed("short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(UnicodeScalar(bytes[index])).hexDigitValue else { throw malformed("bad \\u escape") }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }

        /// JSON's number grammar; an exact Int64 value becomes `.int`, as JSONDecoder decides.
        mutating func number() throws -> JSONValue {
            let start = index
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw malformed("unexpected character") }
            if bytes[index] == UInt8(ascii: "0") { index += 1 } else { skipDigits() }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                integral = false
                index += 1
                guard skipDigits() else { throw malformed("digits expected after the decimal point") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                integral = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard skipDigits() else { throw malformed("digits expected in the exponent") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if integral, let integer = Int64(text) { return .int(integer) }
            guard let double = Double(text), double.isFinite else { throw malformed("number out of range") }
            if let integer = Int64(exactly: double) { return .int(integer) }
            return .double(double)
        }

        /// Skips a run of digits; false when there was none.
        @discardableResult
        mutating func skipDigits() -> Bool {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index > start
        }
    }
}
