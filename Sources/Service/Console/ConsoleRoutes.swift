import Foundation
import HTTPTypes
import Hummingbird

/// The web console at /console: static files embedded at build time (see Plugins/EmbedConsoleAssets).
/// The page signs in with an API token and calls only the public API, so the files themselves
/// are open, like /openapi.json; the API behind them checks the token on every call.
struct ConsoleRoutes {
    static let prefix = "/console"

    /// Decoded once: the files with their content types, by path below /console/.
    static let files: [String: (type: String, body: ByteBuffer)] = ConsoleAssets.base64.reduce(into: [:]) { files, entry in
        guard let bytes = Data(base64Encoded: entry.value) else { return }
        files[entry.key] = (contentType(entry.key), ByteBuffer(bytes: bytes))
    }

    /// Only this origin, no inline script, no framing: a page holding a token talks to nothing else.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-cache",
    ]

    static func contentType(_ name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: "text/plain; charset=utf-8"
        }
    }

    static func isConsole(_ path: String) -> Bool {
        path == prefix || path.hasPrefix(prefix + "/")
    }

    func add(to router: Router<SomaRequestContext>) {
        // "/console" and "/console/" are one route to the router; the page names its files absolutely.
        router.get("console") { _, _ in try Self.answer("index.html") }
        router.get("console/**") { request, _ in
            try Self.answer(String(request.uri.path.dropFirst(Self.prefix.count + 1)))
        }
    }

    static func answer(_ name: String) throws -> Response {
        guard let file = files[name.isEmpty ? "index.html" : name] else { throw APIError.notFound("the console has no file '\(name)'") }
        var headers = securityHeaders
        headers[.contentType] = file.type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }
}
