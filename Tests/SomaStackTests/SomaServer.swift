import AsyncHTTPClient
import ConformanceKit
import Foundation
import NIOCore

/// A `soma serve` (or `soma consume`) process built by this package, on a free loopback port, with
/// the given environment. `port` is the API's, or for the consumer its probes-and-metrics port.
final class SomaServer: @unchecked Sendable {
    let port: Int
    let pid: pid_t
    let log: URL
    let command: String
    /// The whole environment the process was started with.
    let environment: [String: String]

    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("soma")
    }

    init(environment: [String: String], command: String = "serve") throws {
        self.command = command
        port = try Spawn.freePort()
        let binary = Self.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ServerControlError(message: "no soma binary at \(binary.path); build with `swift build --build-tests`")
        }
        log = FileManager.default.temporaryDirectory.appendingPathComponent("soma-stack-\(command)-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("SOMA_") && !$0.key.hasPrefix("POSTGRES") && !$0.key.hasPrefix("REDIS")
        }
        env["SOMA_HOST"] = "127.0.0.1"
        env[command == "consume" ? "CONSUMER_METRICS_PORT" : "SOMA_PORT"] = String(port)
        env["LOG_LEVEL"] = "info"
        env.merge(environment) { _, new in new }
        self.environment = env
        pid = try Spawn.launch([binary.path, command], environment: env, output: log.path)
    }

    /// Runs `soma ARGUMENTS` to completion; returns what it printed.
    static func run(_ arguments: [String], environment: [String: String]) throws -> String {
        let output = Scratch.path("soma-run", suffix: ".txt")
        defer { try? FileManager.default.removeItem(at: output) }
        try Spawn.run([binary.path] + arguments, environment: environment, output: output.path)
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    /// Waits until /healthz answers.
    func ready(within seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard Spawn.isRunning(pid) else { throw ServerControlError(message: "soma exited:\n\(logText)") }
            if let reply = try? await call("GET", "/healthz"), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ServerControlError(message: "soma did not answer within \(seconds) s:\n\(logText)")
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Asks the server to stop (SIGTERM) and waits for it; one that has not exited within `grace`
    /// seconds is killed, so a stuck shutdown fails a test instead of hanging the run.
    /// Returns whether it exited by itself.
    @discardableResult
    func stop(grace: Double = 15) -> Bool {
        guard Spawn.isRunning(pid) else { return true }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if !Spawn.isRunning(pid) { return true }
            usleep(50_000)
        }
        FileHandle.standardError.write(
            Data("soma \(command) on port \(port) did not stop within \(grace) s; killed. Log tail:\n\(logText.suffix(2000))\n".utf8))
        kill(pid, SIGKILL)
        Spawn.wait(pid)
        return false
    }

    /// Ends the process at once, as a crash or an OOM kill would.
    func crash() {
        guard Spawn.isRunning(pid) else { return }
        kill(pid, SIGKILL)
        Spawn.wait(pid)
    }

    deinit { stop() }

    struct Reply: @unchecked Sendable {
        let status: Int
        let json: [String: Any]
        let text: String
        var headers: [String: String] = [:]
        subscript(key: String) -> Any? { json[key] }
    }

    /// One request with a hard deadline (AsyncHTTPClient: URLSession on Linux has been seen to hang).
    func call(_ method: String, _ path: String, _ body: String? = nil, timeout: Double = 10, headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(string: body))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let milliseconds = Int64(timeout * 1000)
        let response = try await HTTPClient.shared.execute(request, deadline: .now() + .milliseconds(milliseconds))
        let data = Data(try await response.body.collect(upTo: 16 << 20).readableBytesView)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Reply(
            status: Int(response.status.code), json: json, text: String(decoding: data, as: UTF8.self),
            headers: Dictionary(response.headers.map { ($0.name, $0.value) }) { first, second in "\(first), \(second)" })
    }
}
