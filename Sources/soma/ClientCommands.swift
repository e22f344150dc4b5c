import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where a client command sends its requests.
struct ClientOptions: ParsableArguments {
    @Option(help: "Base URL of a running server.")
    var url = ProcessInfo.processInfo.environment["SOMA_URL"] ?? "http://127.0.0.1:9595"

    @Option(help: "Bearer token (default: SOMA_API_TOKEN).")
    var token: String?

    @Option(help: "Namespace (X-Soma-Namespace).")
    var namespace: String?

    /// Sends one request; prints the server's error and exits non-zero on a non-2xx answer.
    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json") async throws -> Data {
        guard let endpoint = URL(string: url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw ValidationError("invalid --url \(url)")
        }
        var request = URLRequest(url: endpoint)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let token = token ?? ProcessInfo.processInfo.environment["SOMA_API_TOKEN"], !token.isEmpty { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let namespace { request.setValue(namespace, forHTTPHeaderField: "X-Soma-Namespace") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            FileHandle.standardError.write(Data("soma: server answered \(status): ".utf8) + data + Data("\n".utf8))
            throw ExitCode(1)
        }
        return data
    }

    static func json(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static func parseObject(_ text: String, _ name: String) throws -> Any {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any] else {
            throw ValidationError("\(name) must be a JSON object")
        }
        return object
    }
}

func printData(_ data: Data) {
    FileHandle.standardOutput.write(data)
    if data.last != UInt8(ascii: "\n") { FileHandle.standardOutput.write(Data("\n".utf8)) }
}

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Store a memory on a running server.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Coordinate, e.g. 1,2,3.") var coord: String
    @Option(help: "Payload as a JSON object.") var payload: String
    @Option(help: "episodic or semantic.") var type = "episodic"

    func run() async throws {
        let body: [String: Any] = ["coord": coord, "payload": try ClientOptions.parseObject(payload, "--payload"), "type": type]
        printData(try await client.send("POST", "/v1/memories", body: try ClientOptions.json(body)))
    }
}

struct RecallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recall", abstract: "Recall memories from a running server.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Query text.") var query: String
    @Option(name: .customLong("top-k"), help: "How many results.") var topK = 5
    @Option(help: "vector, keyword or hybrid.") var mode = "vector"

    func run() async throws {
        let body: [String: Any] = ["query": query, "top_k": topK, "mode": mode]
        printData(try await client.send("POST", "/v1/memories/search", body: try ClientOptions.json(body)))
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export a namespace as JSON Lines to standard output.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        FileHandle.standardOutput.write(try await client.send("GET", "/v1/export"))
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import JSON Lines (a file, or - for standard input).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "File to import.") var file: String

    func run() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        printData(try await client.send("POST", "/v1/import", body: data, contentType: "application/x-ndjson"))
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show memory counts of a namespace.")
    @OptionGroup var client: ClientOptions

    func run() async throws {
        printData(try await client.send("GET", "/v1/stats"))
    }
}
