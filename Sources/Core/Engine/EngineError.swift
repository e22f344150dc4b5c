/// Failures the engine reports; the HTTP layer maps each to one status code.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// The request is well-formed but a value is wrong (400).
    case invalid(String)
    /// The memory or link does not exist in this namespace (404).
    case notFound(String)
    /// The request asks for more than the configured caps allow (413).
    case tooLarge(String)
    /// A backend did not answer or failed (503); the failure keeps which, in what, and why.
    case unavailable(BackendFailure)

    /// A backend failure the engine finds itself (a vector of the wrong shape).
    static func unavailable(capability: Capability, reason: String, operation: String = #function) -> EngineError {
        .unavailable(BackendFailure(capability: capability, operation: operation, cause: reason))
    }

    public var description: String {
        switch self {
        case .invalid(let detail), .notFound(let detail), .tooLarge(let detail): detail
        case .unavailable(let failure): failure.description
        }
    }
}

/// Why a backend call failed, for the log line of the 503 it becomes: the capability, the engine's
/// operation and the cause in words. The cause never holds a secret (URLs are redacted); the
/// answer's body does not carry it.
public struct BackendFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var capability: Capability
    /// The engine operation that called the backend (`store(_:)`, `recall(_:)`).
    public var operation: String
    public var cause: String

    public init(capability: Capability, operation: String, cause: String) {
        self.capability = capability
        self.operation = operation
        self.cause = Redaction.text(cause)
    }

    public var description: String { "\(capability) backend failed in \(operation): \(cause)" }
}

/// Runs a backend call and turns any failure into `EngineError.unavailable`, keeping engine errors
/// as they are and the cause of every other.
func backend<T>(_ capability: Capability, operation: String = #function, _ call: () async throws -> T) async throws -> T {
    do {
        return try await call()
    } catch let error as EngineError {
        throw error
    } catch {
        throw EngineError.unavailable(BackendFailure(capability: capability, operation: operation, cause: String(describing: error)))
    }
}
