import Foundation
import HTTPTypes
import Hummingbird
import Logging
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
                try await answer(request, namespace: context.namespace, logger: context.logger)
            }
        }
    }

    func answer(_ request: Request, namespace: String, logger: Logger) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let body = request.method == .post ? Data(try await env.body.bytes(request).readableBytesView) : nil
        let message = body.flatMap { try? JSONReader.value(Array($0)) }
        if body != nil, let problem = Self.envelopeProblem(message) {
            return Self.invalidRequest(problem)
        }
        let sdkRequest = MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: "/mcp")
        if let message, let answer = await toolCall(message, sdkRequest, namespace: namespace, logger: logger) {
            return answer
        }
        let server = await MemoryMCPServer.make(env: env, namespace: namespace)
        let transport = StatelessHTTPServerTransport()
        try await server.start(transport: transport)
        let answer = await transport.handleRequest(sdkRequest)
        await server.stop()
        return Self.response(answer)
    }

    static func response(_ answer: MCP.HTTPResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in answer.headers { if let name = HTTPField.Name(name) { fields[name] = value } }
        let status = HTTPTypes.HTTPResponse.Status(code: answer.statusCode)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.bodyData ?? Data())))
    }

    /// The same checks the SDK's stateless transport makes before it hands a message on.
    static let validation = StandardValidationPipeline(validators: [
        OriginValidator.localhost(), AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
    ])

    /// `tools/call`, the method agents send most, answered here: the SDK's server turns every
    /// result into its `Value` and back, matching each string against a regex it compiles anew
    /// (three quarters of a recall call's CPU, measured with perf), so the hot path writes the
    /// same JSON-RPC answer itself. The request passes the SDK's own validators first; every other
    /// method goes to the SDK.
    func toolCall(_ message: JSONValue, _ request: MCP.HTTPRequest, namespace: String, logger: Logger) async -> Response? {
        guard message["method"] == .string("tools/call"), let id = message["id"],
            case .object(let params)? = message["params"], case .string(let name)? = params["name"]
        else { return nil }
        let context = HTTPValidationContext(
            httpMethod: "POST", sessionID: nil, isInitializationRequest: false, supportedProtocolVersions: Version.supported)
        if let refusal = Self.validation.validate(request, context: context) { return Self.response(refusal) }
        let arguments = Data(JSONWriter.text(params["arguments"] ?? .object([:])).utf8)
        let tools = MemoryTools(env: env, namespace: namespace, logger: logger)
        var answer =
            Array(#"{"jsonrpc":"2.0","id":"#.utf8) + Array(JSONWriter.text(id).utf8) + Array(#","result":{"content":[{"type":"text","text":"#.utf8)
        let outcome = await tools.run(name, arguments: arguments)
        switch outcome {
        case .output, .json:
            let json: [UInt8]
            if case .json(let bytes) = outcome {
                json = bytes
            } else if case .output(let output) = outcome, let encoded = try? SomaJSON.encoder().encode(output) {
                json = Array(encoded)
            } else {
                return nil
            }
            answer += Array(JSONWriter.text(.string(String(decoding: json, as: UTF8.self))).utf8)
            answer += Array(#"}],"structuredContent":"#.utf8) + json + Array(#","isError":false}}"#.utf8)
        case .failure(let failure):
            answer += Array(JSONWriter.text(.string("\(failure.code): \(failure.detail)")).utf8) + Array(#"}],"isError":true}}"#.utf8)
        }
        return JSONResponse.make(bytes: answer)
    }

    /// What the SDK's transport cannot answer: it takes any `id` as a request to wait for, and its
    /// server drops an `id` that is not a string or an integer without answering, so such a
    /// request would hang. Checked here first: a JSON object with `"jsonrpc": "2.0"`, a string
    /// `method` when it has one, and an `id` that is a string or an integer when it has one.
    static func envelopeProblem(_ message: JSONValue?) -> String? {
        guard case .object(let fields)? = message else {
            return "the body must be one JSON-RPC 2.0 message (a JSON object)"
        }
        guard fields["jsonrpc"] == .string("2.0") else { return "\"jsonrpc\" must be \"2.0\"" }
        if let method = fields["method"], case .string = method {} else if fields["method"] != nil { return "\"method\" must be a string" }
        switch fields["id"] {
        case nil, .string?, .int?: break
        default: return "\"id\" must be a string or an integer"
        }
        if fields["method"] == nil, fields["result"] == nil, fields["error"] == nil { return "a message needs a method, a result or an error" }
        return nil
    }

    static func invalidRequest(_ problem: String) -> Response {
        let error: JSONValue = .object([
            "jsonrpc": "2.0", "id": .null, "error": .object(["code": .int(-32600), "message": .string("Invalid Request: \(problem)")]),
        ])
        return JSONResponse.make(bytes: Array(JSONWriter.text(error).utf8), status: .badRequest)
    }
}
