/// Failures the engine reports; the HTTP layer maps each to one status code.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// The request is well-formed but a value is wrong (400).
    case invalid(String)
    /// The memory or link does not exist in this namespace (404).
    case notFound(String)
    /// The request asks for more than the configured caps allow (413).
    case tooLarge(String)
    /// A backend did not answer (503). `capability` names which one; the reason never holds secrets.
    case unavailable(capability: Capability, reason: String)

    public var description: String {
        switch self {
        case .invalid(let detail), .notFound(let detail), .tooLarge(let detail): detail
        case .unavailable(let capability, let reason): "\(capability) backend unavailable: \(reason)"
        }
    }
}

/// Runs a backend call and turns any failure into `EngineError.unavailable`, keeping engine errors as they are.

func backend<T>(_ capability: Capability, _ call: () async throws -> T) async throws -> T {
    do {
        return try await call()
    } catch let error as EngineError {
        throw error
    } catch let error as BackendError {
        throw EngineError.unavailable(capability: capability, reason: error.description)
    } catch {
        throw EngineError.unavailable(capability: capability, reason: String(describing: type(of: error)))
    }
}
