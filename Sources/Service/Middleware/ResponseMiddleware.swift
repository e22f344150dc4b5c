import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SomaCore

/// Outermost middleware: gives each request an id (taken from `X-Request-ID` when the client sends
/// a sane one), logs it, turns every thrown error into the JSON error form, and adds the
/// security headers to every response.
struct ResponseMiddleware: RouterMiddleware {
    typealias Context = SomaRequestContext

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!
    /// The chosen backend of each capability, for the log line of a backend's failure.
    var backends: [Capability: String] = [:]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[Self.requestIDHeader].flatMap(Self.sanitised) ?? UUID().uuidString.lowercased()
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError.from(error)
            if apiError.status.code >= 500 {
                var metadata = FailureLog.metadata(error, backends: backends)
                metadata["path"] = .string(request.uri.path)
                metadata["status"] = .stringConvertible(apiError.status.code)
                context.logger.error("request failed", metadata: metadata)
            }
            response =
                (try? JSONResponse.make(ErrorBody(detail: apiError.detail, code: apiError.code), status: apiError.status, headers: apiError.headers))
                ?? Response(status: .internalServerError)
        }
        response.headers[Self.requestIDHeader] = requestID
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
        context.logger.debug(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path), "status": .stringConvertible(response.status.code),
            ])
        return response
    }

    /// Echo a client's id only when it is short and plain, so it cannot inject into logs or headers.
    static func sanitised(_ value: String) -> String? {
        guard (1...128).contains(value.count),
            value.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.:".unicodeScalars.contains($0) }),
            value.allSatisfy(\.isASCII)
        else { return nil }
        return value
    }
}

struct ErrorBody: Codable, Sendable {
    var detail: String
    var code: String
}
