import Foundation
import Logging
import MCP

/// Standard input and output for `soma mcp --local`, which answers every request it has read
/// before it exits: the SDK's server handles each request in a task of its own and ends its loop
/// when input ends, so a request read just before the end could lose its answer to the exit.
/// This transport counts the requests it hands over and the answers it writes, and `drained`
/// waits for the two to meet.
actor AnsweringStdioTransport: Transport {
    private let inner = StdioTransport()
    private var unanswered: Set<String> = []

    nonisolated var logger: Logger { Logger(label: "soma.mcp.stdio") }

    func connect() async throws { try await inner.connect() }
    func disconnect() async { await inner.disconnect() }

    func send(_ data: Data) async throws {
        try await inner.send(data)
        for id in Self.ids(in: data, requests: false) { unanswered.remove(id) }
    }

    func receive() -> AsyncThrowingStream<Data, any Error> {
        let inner = inner
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await message in await inner.receive() {
                        self.expectAnswers(Self.ids(in: message, requests: true))
                        continuation.yield(message)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func expectAnswers(_ ids: [String]) { unanswered.formUnion(ids) }

    /// Returns when every request read has its answer written, or after `limit`.
    func drained(within limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while !unanswered.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The ids of the requests (a method and an id) or answers (an id, no method) in a message or a batch.
    static func ids(in data: Data, requests: Bool) -> [String] {
        guard let json = try? JSONSerialization.jsonObject(with: data) else { return [] }
        let messages = (json as? [[String: Any]]) ?? [(json as? [String: Any]) ?? [:]]
        return messages.compactMap { message in
            guard let id = message["id"], !(id is NSNull), (message["method"] != nil) == requests else { return nil }
            return "\(id)"
        }
    }
}
