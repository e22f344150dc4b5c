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
        port = try Self.freePort()
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

    /// A port the kernel just handed out and nobody holds (random picks collide with ephemeral ports).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw ServerControlError(message: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
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
