import Foundation
import Hummingbird
import NIOCore
import SomaCore

/// Reads and decodes request bodies with the service's limits, and encodes responses.
struct JSONBody: Sendable {
    let maxBytes: Int
    let maxDepth: Int

    func bytes(_ request: Request) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw Self.tooLarge(maxBytes)
        }
        do {
            return try await request.body.collect(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Self.tooLarge(maxBytes)
        } catch is NIOTooManyBytesError {
            // A chunked body carries no length: the limit is found while it is read.
            throw Self.tooLarge(maxBytes)
        }
    }

    /// `fields`: the body's schema; a field it does not name is refused (the /v1 routes).
    func decode<T: Decodable>(_ type: T.Type, from request: Request, fields: JSONValue? = nil) async throws -> T {
        let buffer = try await bytes(request)
        return try decode(type, from: Data(buffer.readableBytesView), fields: fields)
    }

    func decode<T: Decodable>(_ type: T.Type, from data: Data, fields: JSONValue? = nil) throws -> T {
        guard !data.isEmpty else { throw APIError.badRequest("malformed_json", "the request body is empty; a JSON object is expected") }
        try check(data)
        if let fields, let value = try? JSONReader.value(data), let unknown = KnownFields.unknown(in: value, fields) {
            throw APIError.badRequest("unknown_field", unknown.message)
        }
        do {
            return try SomaJSON.decoder().decode(type, from: data)
        } catch let error as APIError {
            throw error
        } catch let error as CoordinateError {
            throw APIError.badRequest("invalid_coordinate", error.description)
        } catch let error as DecodingError {
            throw Self.apiError(error)
        } catch {
            throw APIError.badRequest("malformed_json", "the request body is not valid JSON")
        }
    }

    /// Refuses JSON nested deeper than the limit, and strings holding NUL: PostgreSQL's text and
    /// jsonb cannot hold U+0000 and SQLite's full-text search stops at it, so no backend could
    /// store or search such a string.
    func check(_ data: Data) throws {
        let scan = Self.scan(data)
        guard scan.deepest <= maxDepth else {
            throw APIError.badRequest("too_deep", "JSON is nested deeper than \(maxDepth) levels")
        }
        guard !scan.nul else {
            throw APIError.badRequest("invalid_string", "strings must not contain the NUL character (\\u0000)")
        }
    }

    static func tooLarge(_ max: Int) -> APIError {
        APIError(.contentTooLarge, code: "body_too_large", "the request body is larger than \(max) bytes")
    }

    static func apiError(_ error: DecodingError) -> APIError {
        guard let problem = DecodingProblem.describe(error) else {
            return .badRequest("malformed_json", "the request body is not valid JSON")
        }
        return .invalidSchema(problem)
    }

    /// Deepest bracket nesting outside strings, and whether a string holds an escaped NUL
    /// (`\u0000`); checked before decoding so hostile input cannot exhaust the decoder's stack.
    static func scan(_ data: Data) -> (deepest: Int, nul: Bool) {
        let bytes = [UInt8](data)
        let nulEscape = Array("0000".utf8)
        var depth = 0, deepest = 0, inString = false, escaped = false, nul = false
        for (index, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                    if byte == UInt8(ascii: "u"), bytes[(index + 1)...].prefix(4).elementsEqual(nulEscape) { nul = true }
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return (deepest, nul)
    }
}

/// Builds JSON responses.
enum JSONResponse {
    static let encoder = SomaJSON.encoder()

    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        make(bytes: try encoder.encode(value), status: status, headers: headers)
    }

    static func make<Bytes: Sequence<UInt8>>(bytes: Bytes, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
