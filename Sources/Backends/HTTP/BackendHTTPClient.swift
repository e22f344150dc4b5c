import AsyncHTTPClient

/// The HTTP client of the backends reached over HTTP (Qdrant, embedding servers). A refused
/// connection fails the attempt at once: AsyncHTTPClient's default retries connecting until the
/// request's deadline, so a server that is down (a restarting pod) cost every call its whole
/// timeout. The callers' own retries and timeouts decide what happens next.
public enum BackendHTTPClient {
    public static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}
