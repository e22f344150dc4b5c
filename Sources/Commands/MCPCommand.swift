import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MCP
import SomaCore
import SomaService

/// `soma mcp`: the Model Context Protocol over standard input and output, the shape desktop
/// hosts launch. By default it relays each message to a running service's `/mcp` with the token
/// and namespace given (so the service's auth and limits apply); with `--local` it embeds the
/// engine on this machine's configuration (the SQLite default) for a single user.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp", abstract: "Serve the Model Context Protocol on standard input and output (to a running service, or --local).")

    @OptionGroup var client: ClientOptions
    @OptionGroup var server: ServerOptions

    @Flag(help: "Embed the engine here instead of relaying to --url (single user; SOMA_DATA_DIR holds the memories).")
    var local = false

    func run() async throws {
        if local {
            try await serveLocally()
        } else {
            try await relay()
        }
    }

    private func serveLocally() async throws {
        let namespace = client.namespace
        try await server.withEngine(label: "soma.mcp", logToStandardError: true) { started, engine, _ in
            let settings = started.settings
            let mcp = await MemoryMCPServer.make(
                engine: engine, namespace: namespace ?? settings.defaultNamespace, maxBodyBytes: settings.maxBodyBytes,
                maxJSONDepth: settings.maxJSONDepth)
            let transport = AnsweringStdioTransport()
            try await mcp.start(transport: transport)
            await mcp.waitUntilCompleted()
            // Input ended; the last requests may still be in their handlers.
            await transport.drained(within: settings.shutdownGrace)
            try? await engine.vectors.flush()
        }
    }

    /// One line in, one POST, the answer's body out; the protocol version agreed at initialize
    /// goes along as the specification asks.
    private func relay() async throws {
        guard let endpoint = URL(string: client.url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/mcp") else {
            throw ValidationError("invalid --url \(client.url)")
        }
        var protocolVersion: String?
        while let line = readLine(strippingNewline: true) {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let message = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            var request = URLRequest(url: endpoint)
            request.httpMethod = "POST"
            request.httpBody = Data(line.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
            if let token = client.token ?? ProcessInfo.processInfo.environment[ServiceSetting.apiToken.name], !token.isEmpty {
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            }
            if let namespace = client.namespace { request.setValue(namespace, forHTTPHeaderField: "X-Soma-Namespace") }
            if let protocolVersion { request.setValue(protocolVersion, forHTTPHeaderField: "MCP-Protocol-Version") }
            let answer: Data
            let status: Int
            do {
                let (data, response) = try await URLSession.shared.data(for: request)
                (answer, status) = (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
            } catch {
                (answer, status) = (Data(), 0)
                FileHandle.standardError.write(Data("soma mcp: cannot reach \(endpoint): \(error)\n".utf8))
            }
            let reply = try? JSONSerialization.jsonObject(with: answer) as? [String: Any]
            if let result = reply?["result"] as? [String: Any], let version = result["protocolVersion"] as? String { protocolVersion = version }
            guard let id = message?["id"] else { continue }  // a notification: nothing to answer
            if reply?["jsonrpc"] != nil {
                FileHandle.standardOutput.write(answer + Data("\n".utf8))
            } else {
                // The service refused the request itself (401, 403, 429, 503): a JSON-RPC error with its reason.
                let detail = (reply?["detail"] as? String) ?? String(decoding: answer.prefix(500), as: UTF8.self)
                let error: [String: Any] = [
                    "jsonrpc": "2.0", "id": id, "error": ["code": -32000, "message": "the service answered \(status): \(detail)"],
                ]
                FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: error) + Data("\n".utf8))
            }
        }
    }
}
