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
        let managed = [
            "POSTGRES_URL": "postgresql://u:p@db/x", "REDIS_HOST": "cache", "QDRANT_URL": "http://q:6333", "KAFKA_BOOTSTRAP_SERVERS": "k:9092",
        ]
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
        for name in [
            "POSTGRES_URL", "REDIS_URL", "REDIS_PASSWORD", "QDRANT_API_KEY", "KAFKA_SASL_PASSWORD", "SOMA_EMBEDDINGS_API_KEY", "SOMA_API_TOKEN",
        ] {
            #expect(Backends.catalogue.isSecret(name), "\(name)")
        }
        #expect(!Backends.catalogue.isSecret("REDIS_HOST"))
    }

    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../Sources").standardized

    /// Names of the environment that are not ours to declare.
    static let foreign: Set<String> = ["NO_COLOR"]

    /// Every quoted name shaped like a setting (`"REDIS_URL"`) in Swift files under `directory`,
    /// with how many times each is written.
    static func quotedNames(under directory: URL) throws -> [String: Int] {
        let pattern = try Regex(#""([A-Z][A-Z0-9]*_[A-Z0-9_]+)""#)
        var seen: [String: Int] = [:]
        let files = try #require(FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil))
        for case let file as URL in files where file.pathExtension == "swift" {
            for match in try String(contentsOf: file, encoding: .utf8).matches(of: pattern) {
                seen[String(match.output[1].substring!), default: 0] += 1
            }
        }
        return seen.filter { !foreign.contains($0.key) }
    }

    /// A setting is written once, in its declaration, which both describes and reads it: a name
    /// quoted twice is a second place that reads it by hand or restates it. Every quoted name is
    /// in the catalogue (`soma config`, the redaction, the chart's drift test).
    @Test func everySettingNameIsWrittenOnceAndCatalogued() throws {
        let seen = try Self.quotedNames(under: Self.sources)
        #expect(seen.count > 80, "the scan found the settings")
        let twice = seen.filter { $0.value > 1 }.keys.sorted()
        #expect(twice.isEmpty, "written more than once: \(twice)")
        let unknown = Set(seen.keys).subtracting(Backends.catalogue.names)
        #expect(unknown.isEmpty, "quoted but not catalogued: \(unknown.sorted())")
        let names = Backends.catalogue.names
        #expect(Set(names).count == names.count, "the catalogue lists a name twice")
    }

    /// Backends declare what they read themselves: no name a backend target quotes is known only
    /// from the service's own list, and the service quotes none of a backend's own settings.
    @Test func backendTargetsDeclareEverySettingTheyRead() throws {
        let seen = Set(try Self.quotedNames(under: Self.sources.appending(path: "Backends")).keys)
        #expect(seen.count > 30, "the scan found the backends' settings")
        let undeclared = seen.subtracting(Backends.registry.settings.map(\.name))
        #expect(undeclared.isEmpty, "read by a backend but not declared by one: \(undeclared.sorted())")
        let service = Set(try Self.quotedNames(under: Self.sources.appending(path: "Service")).keys)
        let backendOnly = Set(Backends.registry.settings.map(\.name)).subtracting(SettingCatalogue.service.map(\.name))
        #expect(service.intersection(backendOnly).isEmpty, "the service reads a backend's setting: \(service.intersection(backendOnly).sorted())")
    }
}
