import PostgresNIO
import SomaCore

/// Runs one database operation under the configured deadline (a real one: see `withDeadline`) and turns its failures into errors
/// that say what happened without leaking the query's values or credentials. While PostgreSQL is
/// away, the pool keeps reconnecting in the background and each call gives up at the deadline, so
/// requests answer 503 rather than hang.
struct PostgresCall {
    let endpoint: PostgresEndpoint

    @discardableResult
    func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = endpoint.timeout
        do {
            return try await withDeadline(timeout, onTimeout: { PostgresTimeout() }, body)
        } catch let error as EngineError {
            throw error
        } catch is PostgresTimeout {
            throw BackendError.unreachable(backend: "postgres", reason: "no answer from \(endpoint.description) within \(timeout)")
        } catch let error as PSQLError {
            throw Self.describe(error, endpoint)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw BackendError.unreachable(backend: "postgres", reason: "\(error) talking to \(endpoint.description)")
        }
    }

    static func describe(_ error: PSQLError, _ endpoint: PostgresEndpoint) -> BackendError {
        if error.code == .server, let info = error.serverInfo {
            let state = info[.sqlState] ?? "?"
            return .unreachable(backend: "postgres", reason: "server error \(state): \(info[.message] ?? "no message")")
        }
        // The underlying error says why a connection failed (refused, TLS certificate not trusted);
        // it is a network or TLS error, never one carrying the query or the password.
        let cause = error.underlying.map { ": \(ConnectionProblem.words($0))" } ?? ""
        return .unreachable(backend: "postgres", reason: "cannot talk to \(endpoint.description) (\(error.code))\(cause)")
    }
}

private struct PostgresTimeout: Error {}
