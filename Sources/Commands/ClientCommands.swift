import ArgumentParser
import AsyncHTTPClient
import Foundation
import SomaCore
import SomaService
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where a client command sends its requests.
struct ClientOptions: ParsableArguments {
    @Option(help: "Base URL of a running server.")
    var url = ProcessInfo.processInfo.environment[ServiceSetting.url.name] ?? ServiceSetting.url.defaultValue

    @Option(help: "Bearer token (default: SOMA_API_TOKEN).")
    var token: String?

    @Option(help: "Namespace (X-Soma-Namespace).")
    var namespace: String?

    /// Sends one request; prints the server's error and exits non-zero on a non-2xx answer.
    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json") async throws -> Data {
        let (status, data) = try await exchange(method, path, body: body, contentType: contentType)
        guard (200..<300).contains(status) else { throw PlainFailure.refused(status: status, data) }
        return data
    }

    /// A GET whose answer is handed over chunk by chunk as it arrives (an export is as long as the namespace).
    func stream(_ path: String, _ each: (Data) throws -> Void) async throws {
        var request = HTTPClientRequest(url: url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        if let token = token ?? ProcessInfo.processInfo.environment[ServiceSetting.apiToken.name], !token.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let namespace { request.headers.add(name: "X-Soma-Namespace", value: namespace) }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .hours(24))
        } catch {
            throw PlainFailure.unreachable(url, error)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw PlainFailure.refused(status: Int(response.status.code), Data(body.readableBytesView))
        }
        for try await buffer in response.body { try each(Data(buffer.readableBytesView)) }
    }

    /// One request and its answer, whatever the status.
    func exchange(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json") async throws -> (Int, Data) {
        guard let endpoint = URL(string: url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw PlainFailure(
                "\(url) is not a URL: set --url or \(ServiceSetting.url.name) to the server's address, e.g. \(ServiceSetting.url.defaultValue)")
        }
        var request = URLRequest(url: endpoint)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let token = token ?? ProcessInfo.processInfo.environment[ServiceSetting.apiToken.name], !token.isEmpty {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if let namespace { request.setValue(namespace, forHTTPHeaderField: "X-Soma-Namespace") }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw PlainFailure.unreachable(url, error)
        }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
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

/// `--json`, or any standard output that is not a terminal: the service's JSON as it came.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the service's JSON even on a terminal (it is always printed to a pipe or file).")
    var json = false

    var human: Bool { !json && Terminal.standardOutputIsTerminal }
}

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Store a memory on a running server.")
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Coordinate, e.g. 1,2,3.") var coord: String
    @Option(help: "Payload as a JSON object.") var payload: String
    @Option(help: "The memory's type.") var type = MemoryType.episodic

    func run() async throws {
        let body: [String: Any] = ["coord": coord, "payload": try ClientOptions.parseObject(payload, "--payload"), "type": type.rawValue]
        let answer = try await client.send("POST", "/v1/memories", body: try ClientOptions.json(body))
        guard output.human, let memory = try? JSONSerialization.jsonObject(with: answer) as? [String: Any] else { return printData(answer) }
        let colour = Terminal.colour()
        print(
            "\(Terminal.styled("stored", .green, colour: colour)) \(memory["coord"] ?? coord) in \(memory["namespace"] ?? "?"): "
                + "version \(memory["version"] ?? "?"), \(memory["type"] ?? type.rawValue)")
    }
}

struct RecallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recall", abstract: "Recall memories from a running server.")
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Query text.") var query: String
    @Option(name: .customLong("top-k"), help: "How many results.") var topK = 5
    @Option(help: "How to match the query.") var mode = SearchMode.vector

    func run() async throws {
        let body: [String: Any] = ["query": query, "top_k": topK, "mode": mode.rawValue]
        let answer = try await client.send("POST", "/v1/memories/search", body: try ClientOptions.json(body))
        guard output.human, let results = (try? JSONSerialization.jsonObject(with: answer) as? [String: Any])?["results"] as? [[String: Any]] else {
            return printData(answer)
        }
        guard !results.isEmpty else { return print("no memories match \"\(query)\"") }
        let rows = results.enumerated().map { rank, hit -> [String] in
            let memory = hit["memory"] as? [String: Any] ?? [:]
            return [
                String(rank + 1), String(format: "%.3f", hit["score"] as? Double ?? 0), hit["coord"] as? String ?? "",
                memory["type"] as? String ?? "", Terminal.preview(memory["payload"] as? [String: Any] ?? [:]),
            ]
        }
        let lines = Terminal.table(header: ["RANK", "SCORE", "COORD", "TYPE", "TEXT"], rows: rows)
        print(Terminal.styled(lines[0], .bold, colour: Terminal.colour()))
        lines.dropFirst().forEach { print($0) }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a namespace as JSON Lines to standard output (progress on standard error).")
    @OptionGroup var client: ClientOptions
    @Flag(help: "Carry each memory's vector, so an import with the same model embeds nothing.") var vectors = false

    func run() async throws {
        // Asked first, also because the streaming client retries a refused connection until its deadline.
        let stats = try await client.send("GET", "/v1/stats")
        let total = (try? JSONSerialization.jsonObject(with: stats) as? [String: Any])?["total"] as? Int
        let progress = ProgressReport("exported", total: total)
        try await client.stream(vectors ? "/v1/export?vectors=true" : "/v1/export") { chunk in
            FileHandle.standardOutput.write(chunk)
            progress.advance(by: chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) })
        }
        progress.finish("exported \(progress.done.formatted()) lines (a header, the memories, their links)")
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import JSON Lines (a file, or - for standard input), in batches, with progress on standard error.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "File to import.") var file: String
    @Option(name: .customLong("batch-size"), help: "Lines per request (each batch is one transaction).") var batchSize = 500

    func run() async throws {
        guard (1...1000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 1000") }
        let data: Data
        do {
            data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw PlainFailure(FileProblem.reading(file, error), underlying: error)
        }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
        // A backup's header goes with every batch: each restores its memories as they were.
        let header = lines.first.flatMap { String(decoding: $0.element, as: UTF8.self).contains("\"soma_export\"") ? $0 : nil }
        if header != nil { lines.removeFirst() }
        let progress = ProgressReport("imported", total: lines.count)
        var imported = 0, links = 0, unchanged = 0, reused = 0
        for start in stride(from: 0, to: lines.count, by: batchSize) {
            let batch = (header.map { [$0] } ?? []) + lines[start..<min(start + batchSize, lines.count)]
            let body = Data(batch.map { Data($0.element) }.joined(separator: Data("\n".utf8)))
            let (status, answer) = try await client.exchange("POST", "/v1/import", body: body, contentType: "application/x-ndjson")
            guard (200..<300).contains(status) else {
                progress.finish("stopped after \(start.formatted()) lines (earlier batches are stored)")
                FileHandle.standardError.write(
                    Data("soma: \(Self.locate(answer, batch: Array(batch.map(\.offset)), file: file, status: status))\n".utf8))
                throw ExitCode(1)
            }
            let counts = (try? JSONSerialization.jsonObject(with: answer) as? [String: Any]) ?? [:]
            imported += counts["imported"] as? Int ?? 0
            links += counts["links"] as? Int ?? 0
            unchanged += counts["unchanged"] as? Int ?? 0
            reused += counts["vectors_reused"] as? Int ?? 0
            progress.advance(by: batch.count - (header == nil ? 0 : 1))
        }
        progress.finish("imported \(imported.formatted()) memories and \(links.formatted()) links, \(unchanged.formatted()) already held, 0 failed")
        printData(try ClientOptions.json(["imported": imported, "links": links, "unchanged": unchanged, "vectors_reused": reused]))
    }

    /// The service names a line of the batch; say which line of the file that is.
    static func locate(_ answer: Data, batch offsets: [Int], file: String, status: Int) -> String {
        let detail = PlainFailure.answer(answer).detail
        guard let match = detail.firstMatch(of: /^line (\d+): (.*)$/), let line = Int(match.1), line >= 1, line <= offsets.count else {
            return "server answered \(status): \(detail)"
        }
        return "\(file) line \(offsets[line - 1] + 1): \(match.2) (server answered \(status); this batch was not stored)"
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show memory counts of a namespace.")
    @OptionGroup var client: ClientOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let answer = try await client.send("GET", "/v1/stats")
        guard output.human, let stats = try? JSONSerialization.jsonObject(with: answer) as? [String: Any] else { return printData(answer) }
        for key in ["namespace", "total", "episodic", "semantic"] {
            print(key.padding(toLength: 10, withPad: " ", startingAt: 0) + "\((stats[key] as? Int).map { $0.formatted() } ?? "\(stats[key] ?? "")")")
        }
    }
}

// Choices the command line offers by name; a wrong one is refused with the valid names.
extension SearchMode: ExpressibleByArgument {}
extension MemoryType: ExpressibleByArgument {}
