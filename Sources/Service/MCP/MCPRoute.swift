import Foundation
import HTTPTypes
import Hummingbird
import MCP
import SomaCore

/// Streamable HTTP at `/mcp`, behind the API's own middleware (token, namespace, rate limit, body
/// limit, metrics). Stateless: each POST is answered with one JSON response by a server made for
/// it, in the request's namespace, so nothing is kept between requests and no session can outlive
/// its token's rights. GET (a server-sent event stream) and DELETE answer 405, as the
/// specification allows for a server that sends nothing unasked.
struct MCPRoute {
    let env: RouteEnvironment

    func add(to router: Router<SomaRequestContext>) {
        for method: HTTPTypes.HTTPRequest.Method in [.post, .get, .delete] {
            router.on("mcp", method: method) { request, context in
                try await answer(request, namespace: context.namespace)
            }
        }
    }

    func answer(_ request: Request, namespace: String) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let body = request.method == .post ? Data(try await env.body.bytes(request).readableBytesView) : nil
        let server = await MemoryMCPServer.make(env: env, namespace: namespace)
        let transport = StatelessHTTPServerTransport()
        try await server.start(transport: transport)
        let answer = await transport.handleRequest(MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: "/mcp"))
        await server.stop()
        var fields = HTTPFields()
        for (name, value) in answer.headers { if let name = HTTPField.Name(name) { fields[name] = value } }
        let status = HTTPTypes.HTTPResponse.Status(code: answer.statusCode)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.bodyData ?? Data())))
    }
}
