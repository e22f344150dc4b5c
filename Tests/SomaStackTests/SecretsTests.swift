import ConformanceKit
import Foundation
import Testing

/// Every secret the service takes, set at once: none may appear in its logs (at trace level) or in
/// any answer, through start-up, requests, errors, `soma config` and shutdown.
@Suite("Secrets never leave the process", .enabled(if: Stack.available, Comment(rawValue: Stack.missing)))
struct SecretsTests {
    static let token = "tok-7c1e-secret-api-token"
    static let kafkaPassword = "kafka-3f9a-secret-sasl"
    static let embeddingKey = "embed-5b2d-secret-key"

    /// The secrets as they appear in the configuration (the passwords inside the URLs included).
    static var secrets: [String] {
        var secrets = [token, kafkaPassword, embeddingKey]
        for url in [TestServers.postgresStackURL, TestServers.redisURL].compactMap({ $0 }) {
            if let password = URLComponents(string: url)?.password, !password.isEmpty { secrets.append(password) }
        }
        return secrets
    }

    @Test func noSecretInLogsOrAnswers() async throws {
        #expect(Self.secrets.count == 5, "the database and Redis URLs carry passwords")
        var environment: [String: String] = [
            "SOMA_API_TOKEN": Self.token,
            "SOMA_HOST": "127.0.0.1",
            "LOG_LEVEL": "trace",
            "KAFKA_SASL_USERNAME": "soma",
            "KAFKA_SASL_PASSWORD": Self.kafkaPassword,
            "SOMA_EMBEDDINGS_API_KEY": Self.embeddingKey,
        ]
        if let kafka = TestServers.kafkaBootstrap { environment["KAFKA_BOOTSTRAP_SERVERS"] = kafka }
        // The key is used for real: the HTTP embedder sends it to the stand-in, which refuses any other.
        let embeddings = try await EmbeddingsStandIn(apiKey: Self.embeddingKey)
        environment["SOMA_EMBEDDINGS_URL"] = embeddings.baseURL
        environment["SOMA_EMBEDDINGS_MODEL"] = "standin"
        // A database kept from an earlier run may hold another model's vectors: move it to this one.
        let reindexed = try SomaServer.run(
            ["reindex"], environment: environment.merging(["POSTGRES_URL": Stack.url(database: "soma_secrets")]) { $1 })
        #expect(reindexed.contains("standin@384"), "\(reindexed)")
        let server = try await Stack.server(environment, database: "soma_secrets")
        let bearer = "Bearer \(Self.token)"
        var answers: [String] = []
        for (method, path, body, authorization) in [
            ("POST", "/v1/memories", #"{"coord":"1,1","payload":{"text":"secret test"}}"#, bearer),
            ("GET", "/v1/memories/1,1", nil, bearer),
            ("GET", "/v1/stats", nil, "Bearer wrong-token"),
            ("POST", "/v1/memories", #"{"coord":"x","payload":{}}"#, bearer),
            ("GET", "/readyz", nil, bearer),
            ("GET", "/metrics", nil, bearer),
            ("GET", "/openapi.json", nil, bearer),
            ("POST", "/v1/memories/search", #"{"query":"secret test"}"#, bearer),
            ("STOP EMBEDDER", "", nil, ""),
            ("POST", "/v1/memories/search", #"{"query":"secret test"}"#, bearer),
        ] as [(String, String, String?, String)] {
            if method == "STOP EMBEDDER" {
                embeddings.stop()
                continue
            }
            let reply = try await server.call(method, path, body, headers: ["Authorization": authorization])
            answers.append("\(reply.status) \(reply.headers) \(reply.text)")
        }
        #expect(answers[0].hasPrefix("201"), "the token works: \(answers[0].prefix(200))")
        #expect(answers[2].hasPrefix("403"), "a wrong token is refused")
        #expect(answers[7].hasPrefix("200"), "recall through the HTTP embedder works: \(answers[7].prefix(200))")
        #expect(answers[8].hasPrefix("503"), "recall with the embedder stopped is an error: \(answers[8].prefix(200))")
        #expect(server.stop(), "soma serve stops by itself on SIGTERM")
        let config = try SomaServer.run(["config"], environment: server.environment)

        let log = server.logText
        let lines = log.split(separator: "\n").count
        print("SecretsTests: \(lines) log lines at trace level, \(answers.count) answers and `soma config` checked for \(Self.secrets.count) secrets")
        #expect(lines >= 100, "trace logging should cover the run: only \(lines) lines")
        #expect(log.contains("listening") && log.contains("stopped"), "the log covers start-up and shutdown")
        #expect(
            config.contains("SOMA_API_TOKEN=***") && config.contains("KAFKA_SASL_PASSWORD=***") && config.contains("SOMA_EMBEDDINGS_API_KEY=***"),
            "`soma config` shows the secrets are set: \(config.prefix(400))")
        for secret in Self.secrets {
            #expect(!log.contains(secret), "a secret is in the log")
            #expect(!answers.joined().contains(secret), "a secret is in an answer")
            #expect(!config.contains(secret), "a secret is in `soma config`")
        }
    }
}
