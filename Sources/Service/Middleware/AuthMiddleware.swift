import HTTPTypes
import Hummingbird
import SomaCore

/// Resolves the namespace of each request and, when tokens are configured, checks the bearer token
/// and that it may act in that namespace. Probes, /metrics, /openapi.json and the console's
/// static files stay open.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SomaRequestContext

    static let namespaceHeader = HTTPField.Name("X-Soma-Namespace")!
    static let openPaths: Set<String> = ["/", "/health", "/healthz", "/readyz", "/metrics", "/openapi.json"]

    /// Probes, metrics, the API description and the console's files: no token, no rate limit.
    static func isOpen(_ path: String) -> Bool { openPaths.contains(path) || ConsoleRoutes.isConsole(path) }

    let tokens: AccessTokens
    let defaultNamespace: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.isOpen(request.uri.path) { return try await next(request, context) }
        var context = context
        // Who is asking comes first: without a valid token nothing else about the request is judged.
        let grant = try authenticate(request)
        let namespace = request.headers[Self.namespaceHeader] ?? defaultNamespace
        guard Namespace.isValid(namespace) else {
            throw APIError.badRequest("invalid_namespace", "namespace must be 1 to 64 letters, digits, '_', '-' or '.'")
        }
        context.namespace = namespace
        if let grant {
            if let allowed = grant.namespaces, !allowed.contains(namespace) {
                throw APIError(.forbidden, code: "namespace_forbidden", "this token may not act in namespace '\(namespace)'")
            }
            context.principal = grant.label
        }
        context.logger[metadataKey: "namespace"] = .string(namespace)
        return try await next(request, context)
    }

    /// The bearer token's grant; nil when no tokens are configured (the API is open).
    private func authenticate(_ request: Request) throws -> AccessTokens.Grant? {
        guard !tokens.isEmpty else { return nil }
        guard let authorization = request.headers[.authorization] else {
            throw APIError(.unauthorized, code: "missing_token", "a bearer token is required", headers: [.wwwAuthenticate: "Bearer"])
        }
        let prefix = "bearer "
        guard authorization.count > prefix.count, authorization.lowercased().hasPrefix(prefix) else {
            throw APIError(
                .unauthorized, code: "missing_token", "the Authorization header must be 'Bearer <token>'", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard let grant = tokens.grant(for: String(authorization.dropFirst(prefix.count))) else {
            throw APIError(.forbidden, code: "invalid_token", "the token is not valid")
        }
        return grant
    }
}
