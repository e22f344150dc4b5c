import AsyncHTTPClient
import SomaCore

/// The HTTP client of the backends reached over HTTP (Qdrant, embedding servers). A refused
/// connection fails the attempt at once: AsyncHTTPClient's default retries connecting until the
/// request's deadline, so a server that is down (a restarting pod) cost every call its whole
/// timeout. The callers' own retries and timeouts decide what happens next.
public enum BackendHTTPClient {
    /// A new client; whoever makes it shuts it down (AsyncHTTPClient requires it).
    public static func make() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// A backend built on a client of its own, which is shut down at the backend's shutdown (or at
    /// once, when building it fails).
    public static func provisioned<Backend: Sendable>(_ build: (HTTPClient) async throws -> Backend) async throws -> Provisioned<Backend> {
        let client = make()
        do {
            return Provisioned(try await build(client), services: [CloseAtShutdown { try? await client.shutdown() }])
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
