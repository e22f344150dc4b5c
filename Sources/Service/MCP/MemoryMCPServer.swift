import Foundation
import MCP
import SomaCore

/// The Model Context Protocol server over one namespace: the tools, the memories as resources
/// (`soma://<namespace>/memory/<coord>`), and a prompt that asks the model to recall first.
public enum MemoryMCPServer {
    static let version = "1.0.0"
    static let resourceScheme = "soma://"

    /// A server with every handler registered; start it on a transport.
    public static func make(engine: MemoryEngine, namespace: String, maxBodyBytes: Int = 1 << 20, maxJSONDepth: Int = 72) async -> Server {
        let env = RouteEnvironment(engine: engine, body: JSONBody(maxBytes: maxBodyBytes, maxDepth: maxJSONDepth))
        return await make(env: env, namespace: namespace)
    }

    static func make(env: RouteEnvironment, namespace: String) async -> Server {
        let server = Server(
            name: "somafractalmemory", version: version, title: "SomaFractalMemory",
            instructions: "Long-term memory. Call recall before answering questions about anything the user may have said before; "
                + "call store_memory to keep facts, preferences and decisions worth remembering.",
            capabilities: .init(
                prompts: .init(listChanged: false), resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        let tools = MemoryTools(env: env, namespace: namespace)
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: ToolCatalogue.tools) }
        await server.withMethodHandler(CallTool.self) { params in await tools.call(params.name, params.arguments ?? [:]) }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in
            .init(templates: [
                Resource.Template(
                    uriTemplate: "\(resourceScheme){namespace}/memory/{coord}", name: "memory",
                    description: "A memory by its coordinate, as JSON", mimeType: "application/json")
            ])
        }
        await server.withMethodHandler(ListResources.self) { _ in
            let recent = try await env.engine.recent(namespace: namespace, limit: 50)
            return .init(
                resources: recent.map { memory in
                    Resource(
                        name: preview(memory), uri: uri(namespace, memory.coordinate),
                        description: "\(memory.type.rawValue) memory, version \(memory.version)",
                        mimeType: "application/json")
                }, nextCursor: nil)
        }
        await server.withMethodHandler(ReadResource.self) { params in
            let memory = try await read(params.uri, env: env, namespace: namespace)
            let json = String(decoding: try SomaJSON.encoder().encode(MemoryView(memory)), as: UTF8.self)
            return .init(contents: [.text(json, uri: params.uri, mimeType: "application/json")])
        }
        await server.withMethodHandler(ListPrompts.self) { _ in
            .init(prompts: [
                Prompt(
                    name: "recall_first", description: "Recall what you know about a topic before answering.",
                    arguments: [.init(name: "topic", description: "What the question is about", required: true)])
            ])
        }
        await server.withMethodHandler(GetPrompt.self) { params in
            guard params.name == "recall_first" else { throw MCPError.invalidParams("no prompt named '\(params.name)'") }
            let topic = params.arguments?["topic"] ?? "the question"
            return .init(
                description: "Recall before answering",
                messages: [
                    .user(
                        .text(
                            text:
                                "Before you answer, call the recall tool with the query \"\(topic)\" and use what it returns; "
                                + "say so when nothing relevant is remembered."))
                ])
        }
        return server
    }

    static func uri(_ namespace: String, _ coordinate: Coordinate) -> String {
        "\(resourceScheme)\(namespace)/memory/\(coordinate.canonical)"
    }

    static func preview(_ memory: Memory) -> String {
        let text = memory.payload["text"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? memory.coordinate.canonical
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }

    /// A memory URI of this namespace; another namespace's URI reads as not found, revealing nothing.
    static func read(_ uri: String, env: RouteEnvironment, namespace: String) async throws -> Memory {
        let prefix = "\(resourceScheme)\(namespace)/memory/"
        guard uri.hasPrefix(prefix),
            let coordinate = try? env.coordinate(CoordinateInput(text: String(uri.dropFirst(prefix.count)).removingPercentEncoding ?? ""))
        else { throw MCPError.invalidParams("no memory at \(uri)") }
        guard let memory = try await env.engine.get(namespace: namespace, coordinate: coordinate) else {
            throw MCPError.invalidParams("no memory at \(uri)")
        }
        return memory
    }
}
