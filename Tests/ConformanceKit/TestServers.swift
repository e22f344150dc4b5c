import Foundation

/// The real servers the backend tests use, as `scripts/servers.sh` starts them and `scripts/test.sh`
/// exports them. A test that needs one is disabled, saying so, when its variable is unset.
public enum TestServers {
    public static var postgresURL: String? { value("SOMA_TEST_POSTGRES_URL") }
    /// A second database on the same server, for tests that run the whole service.
    public static var postgresStackURL: String? { value("SOMA_TEST_POSTGRES_STACK_URL") }
    public static var redisURL: String? { value("SOMA_TEST_REDIS_URL") }
    /// The same server's TLS port (`rediss://`), and the certificate to trust for it.
    public static var redisTLSURL: String? { value("SOMA_TEST_REDIS_TLS_URL") }
    public static var redisTLSCA: String? { value("SOMA_TEST_REDIS_TLS_CA") }
    /// A database of its own for the pipeline tests: every service relays every pending outbox row of its database.
    public static var postgresPipelineURL: String? { value("SOMA_TEST_POSTGRES_PIPELINE_URL") }
    public static var kafkaBootstrap: String? { value("SOMA_TEST_KAFKA_BOOTSTRAP") }
    public static let kafkaMissing = "needs SOMA_TEST_KAFKA_BOOTSTRAP (librdkafka's mock cluster): run `eval \"$(scripts/servers.sh start)\"` first"
    public static var qdrantURL: String? { value("SOMA_TEST_QDRANT_URL") }
    public static var qdrantAPIKey: String? { value("SOMA_TEST_QDRANT_API_KEY") }
    /// Per-request deadline for tests that talk to the stand-in directly. It is Python: the engine's
    /// optimizer and the OpenAPI checks (0.2 s for 64 vectors of 384 floats) share one interpreter
    /// lock, so beside the whole suite on two cores a request once waited past the default 5 s (CI).
    /// These tests are not about the deadline (the fault tests are).
    public static let qdrantDeadline = Duration.seconds(30)
    public static let qdrantMissing = "needs SOMA_TEST_QDRANT_URL (the Qdrant stand-in): run `eval \"$(scripts/servers.sh start)\"` first"
    public static let postgresMissing = "needs SOMA_TEST_POSTGRES_URL: run `eval \"$(scripts/servers.sh start)\"` first"
    public static let redisMissing = "needs SOMA_TEST_REDIS_URL: run `eval \"$(scripts/servers.sh start)\"` first"

    /// Stops or starts one server through `scripts/servers.sh` (fault tests).
    public static func control(_ action: String, _ server: String) throws {
        guard let script = value("SOMA_TEST_SERVERS_SCRIPT") else {
            throw ServerControlError(message: "SOMA_TEST_SERVERS_SCRIPT is not set")
        }
        // Bounded: a server that will not start or stop fails the test rather than hanging the run.
        let status = try Spawn.run(["timeout", "180", "/bin/bash", script, action, server])
        guard status == 0 else {
            throw ServerControlError(message: "\(script) \(action) \(server) exited with \(status)")
        }
    }

    private static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

public struct ServerControlError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
