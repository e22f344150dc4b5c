import Foundation
import SomaCore
import SomaService
import Testing
@testable import SomaCommands

/// The backends this binary registers, as they describe themselves.
@Suite struct BackendsTests {
    func chosen(_ environment: [String: String]) async throws -> [Capability: String] {
        let source = try await SettingsSource.load(environment: environment, catalogue: Backends.catalogue)
        return try ServiceSettings.read(source).backends.resolved(in: Backends.registry)
    }

    @Test func eachCapabilityFollowsTheSettingsItsBackendsDeclare() async throws {
        #expect(try await chosen([:]) == [.storage: "sqlite", .cache: "inprocess", .vector: "sqlite", .bus: "inprocess", .embedder: "minilm"])
        let managed = ["POSTGRES_URL": "postgresql://u:p@db/x", "REDIS_HOST": "cache", "QDRANT_URL": "http://q:6333", "KAFKA_BOOTSTRAP_SERVERS": "k:9092"]
        #expect(try await chosen(managed) == [.storage: "postgres", .cache: "redis", .vector: "qdrant", .bus: "kafka", .embedder: "minilm"])
        #expect(try await chosen(["POSTGRES_URL": "postgresql://u:p@db/x"])[.vector] == "pgvector", "pgvector follows PostgreSQL storage")
        #expect(try await chosen(["SOMA_STORAGE": "postgres"])[.vector] == "pgvector", "also when the storage is named")
        #expect(try await chosen(["SOMA_STORAGE": "inprocess"])[.vector] == "inprocess")
        #expect(try await chosen(["KAFKA_BOOTSTRAP_SERVERS": "k:9092", "EVENTING_ENABLED": "false"])[.bus] == "inprocess")
        #expect(try await chosen(["REDIS_URL": "redis://cache:6379/0"])[.bus] == "inprocess", "Redis is chosen as the cache, the bus is named")
        #expect(try await chosen(["SOMA_EMBEDDINGS_URL": "http://e/v1"])[.embedder] == "openai")
        #expect(try await chosen(["SOMA_EMBEDDINGS_URL": "http://e/v1", "SOMA_FORCE_HASH_EMBEDDINGS": "1"])[.embedder] == "hash")
        #expect(try await chosen(["SOMA_FORCE_HASH_EMBEDDINGS": "0"])[.embedder] == "minilm")
        #expect(try await chosen(["SOMA_EMBEDDER": "hash"])[.embedder] == "hash")
    }

    @Test func secretsAreTheOnesBackendsDeclare() {
        for name in ["POSTGRES_URL", "REDIS_URL", "REDIS_PASSWORD", "QDRANT_API_KEY", "KAFKA_SASL_PASSWORD", "SOMA_EMBEDDINGS_API_KEY", "SOMA_API_TOKEN"] {
            #expect(Backends.catalogue.isSecret(name), "\(name)")
        }
        #expect(!Backends.catalogue.isSecret("REDIS_HOST"))
    }

    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../Sources").standardized

    /// Setting names quoted in Swift files under `directory`.
    static func namesRead(under directory: URL) throws -> Set<String> {
        let pattern = try Regex(#""((?:SOMA|POSTGRES|PGVECTOR|REDIS|QDRANT|KAFKA|EVENTING|VECTOR|LOG|CONSUMER|UVICORN)_[A-Z0-9_]+)""#)
        var seen: Set<String> = []
        let files = try #require(FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil))
        for case let file as URL in files where file.pathExtension == "swift" {
            for match in try String(contentsOf: file, encoding: .utf8).matches(of: pattern) {
                seen.insert(String(match.output[1].substring!))
            }
        }
        return seen
    }

    /// Fails when code reads a setting the catalogue (and so `soma config`, the redaction and the
    /// Helm chart's drift test) does not know.
    @Test func everyNameReadInTheSourcesIsCatalogued() throws {
        let seen = try Self.namesRead(under: Self.sources)
        #expect(seen.count > 50, "the scan found the settings")
        let unknown = seen.subtracting(Backends.catalogue.names)
        #expect(unknown.isEmpty, "read but not catalogued: \(unknown.sorted())")
    }

    /// Backends declare what they read themselves: no name a backend target reads is known only
    /// from the service's own list.
    @Test func backendTargetsDeclareEverySettingTheyRead() throws {
        let seen = try Self.namesRead(under: Self.sources.appending(path: "Backends"))
        #expect(seen.count > 30, "the scan found the backends' settings")
        let undeclared = seen.subtracting(Backends.registry.settings.map(\.name))
        #expect(undeclared.isEmpty, "read by a backend but not declared by one: \(undeclared.sorted())")
        // And the service names none of the backends' own connection settings.
        let service = try Self.namesRead(under: Self.sources.appending(path: "Service"))
        let backendOnly = Set(Backends.registry.settings.map(\.name)).subtracting(SettingCatalogue.service.map(\.name))
        #expect(service.intersection(backendOnly).isEmpty, "the service reads a backend's setting: \(service.intersection(backendOnly).sorted())")
    }
}
