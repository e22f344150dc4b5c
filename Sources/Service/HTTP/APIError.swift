import HTTPTypes
import Hummingbird
import Logging
import SomaCore

/// An error answered as `{"detail": "...", "code": "..."}` with its status. Every error that leaves
/// the service takes this form; messages never hold stack traces or secrets.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, _ detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    static func badRequest(_ code: String, _ detail: String) -> APIError { APIError(.badRequest, code: code, detail) }
    static func invalidSchema(_ detail: String) -> APIError { APIError(.unprocessableContent, code: "invalid_schema", detail) }
    static func notFound(_ detail: String) -> APIError { APIError(.notFound, code: "not_found", detail) }

    /// The API form of any error thrown while handling a request.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as EngineError:
            switch error {
            case .invalid(let detail): return .badRequest("invalid_request", detail)
            case .notFound(let detail): return .notFound(detail)
            case .tooLarge(let detail): return APIError(.contentTooLarge, code: "too_large", detail)
            case .unavailable(let failure):
                return APIError(
                    .serviceUnavailable, code: "backend_unavailable",
                    "the \(failure.capability) backend is unavailable; try again shortly", headers: [.retryAfter: "1"])
            }
        case let error as CoordinateError:
            return .badRequest("invalid_coordinate", error.description)
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge: return APIError(.contentTooLarge, code: "body_too_large", "the request body is larger than allowed")
            case .notFound: return .notFound("no such route")
            case .methodNotAllowed: return APIError(.methodNotAllowed, code: "method_not_allowed", "method not allowed on this route")
            default:
                let code = error.status.code < 500 ? "bad_request" : "internal_error"
                return APIError(error.status, code: code, error.body ?? error.status.reasonPhrase)
            }
        default:
            return APIError(.internalServerError, code: "internal_error", "internal error")
        }
    }
}

/// What an operator needs to find the cause of a 5xx in its log line: for a backend's failure,
/// which capability and backend, in what operation, and why (secrets masked); else the error.
enum FailureLog {
    static func metadata(_ error: any Error, backends: [Capability: String]) -> Logger.Metadata {
        guard case .unavailable(let failure) = error as? EngineError else {
            return ["cause": .string(Redaction.text(String(describing: error)))]
        }
        return [
            "capability": .string(failure.capability.rawValue), "backend": .string(backends[failure.capability] ?? failure.capability.rawValue),
            "operation": .string(failure.operation), "cause": .string(failure.cause),
        ]
    }
}
