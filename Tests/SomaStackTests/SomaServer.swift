import ConformanceKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `soma serve` process built by this package, on a free loopback port, with the given environment.
final class SomaServer: @unchecked Sendable {
    let port: Int
    let pid: pid_t
    let log: URL

    init(environment: [String: String]) throws {
        port = Int.random(in: 20_000...40_000)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("soma")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ServerControlError(message: "no soma binary at \(binary.path); build with `swift build --build-tests`")
        }
        log = FileManager.default.temporaryDirectory.appendingPathComponent("soma-stack-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SOMA_") && !$0.key.hasPrefix("POSTGRES") && !$0.key.hasPrefix("REDIS") }
        env["SOMA_HOST"] = "127.0.0.1"
        env["SOMA_PORT"] = String(port)
        env["LOG_LEVEL"] = "info"
        env.merge(environment) { _, new in new }
        pid = try Spawn.launch([binary.path, "serve"], environment: env, output: log.path)
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

    func stop() {
        if Spawn.isRunning(pid) {
            kill(pid, SIGTERM)
            Spawn.wait(pid)
        }
    }

    deinit { stop() }

    struct Reply: @unchecked Sendable {
        let status: Int
        let json: [String: Any]
        let text: String
        subscript(key: String) -> Any? { json[key] }
    }

    func call(_ method: String, _ path: String, _ body: String? = nil, timeout: Double = 10) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: timeout)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Reply(status: (response as! HTTPURLResponse).statusCode, json: json, text: String(decoding: data, as: UTF8.self))
    }
}
