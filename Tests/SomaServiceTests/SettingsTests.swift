import Foundation
import SomaCore
import SomaInProcess
import Testing
@testable import SomaService

@Suite struct SettingsTests {
    func settings(_ environment: [String: String], file: String? = nil) async throws -> (SettingsSource, ServiceSettings) {
        let source = try await SettingsSource.load(environment: environment, file: file)
        return (source, try ServiceSettings.read(source))
    }

    @Test func defaultsAndOriginalVariableNames() async throws {
        let (_, defaults) = try await settings([:])
        #expect(defaults.host == "127.0.0.1" && defaults.port == 9595 && defaults.defaultNamespace == "api_ns")
        #expect(defaults.tokens.isEmpty && defaults.engine.indexSynchronously && defaults.eventingEnabled)
        let (_, custom) = try await settings([
            "SOMA_PORT": "8080", "SOMA_MEMORY_NAMESPACE": "team", "SOMA_API_TOKEN": "t", "SOMA_RATE_LIMIT_MAX": "0",
            "SOMA_RATE_LIMIT_WINDOW_SECONDS": "5", "SOMA_CORS_ORIGINS": "https://a.example, https://b.example", "VECTOR_INDEX_ASYNC": "true",
            "EVENTING_ENABLED": "false", "LOG_LEVEL": "DEBUG",
        ])
        #expect(custom.port == 8080 && custom.defaultNamespace == "team" && !custom.tokens.isEmpty)
        #expect(!custom.rateLimit.isEnabled && custom.rateLimit.window == .seconds(5))
        #expect(custom.corsOrigins == ["https://a.example", "https://b.example"])
        #expect(!custom.eventingEnabled && custom.logLevel == .debug)
        #expect(custom.engine.indexSynchronously, "without events nobody else would index: the API does")
        let (_, asynchronous) = try await settings(["VECTOR_INDEX_ASYNC": "true"])
        #expect(!asynchronous.engine.indexSynchronously)
    }

    @Test func withoutEventingTheOutboxIsDrainedAndNothingIsPublished() async throws {
        let settings = testSettings { $0.eventingEnabled = false }
        let engine = try await inProcessEngine(settings.engine)
        _ = try await engine.store(MemoryDraft(namespace: "ns", coordinate: try Coordinate([1]), payload: ["text": "x"]))
        let relay = SomaApplication.outboxRelay(engine: engine, settings: settings)
        #expect(try await relay.relayOnce() == 1)
        #expect(try await engine.storage.pendingEvents(limit: 10).isEmpty, "the outbox does not grow")
        let subscription = try await engine.bus.subscribe(group: "g", consumer: "c")
        #expect(try await subscription.next(timeout: .milliseconds(50)) == nil, "no event reached the bus")
    }

    @Test func anInProcessBusNobodyReadsIsNotFilled() async throws {
        let settings = testSettings { $0.eventingEnabled = true; $0.engine.indexSynchronously = true }
        let engine = try await inProcessEngine(settings.engine)
        for number in 0..<3 {
            _ = try await engine.store(MemoryDraft(namespace: "ns", coordinate: try Coordinate([Double(number)]), payload: ["text": "x"]))
        }
        #expect(try await SomaApplication.outboxRelay(engine: engine, settings: settings).relayOnce() == 3)
        #expect(try await engine.storage.pendingEvents(limit: 10).isEmpty, "the outbox does not grow")
        let subscription = try await engine.bus.subscribe(group: "g", consumer: "c")
        #expect(try await subscription.next(timeout: .milliseconds(50)) == nil, "the in-process log kept no event")

        // With asynchronous indexing the process's own consumer reads the bus: events go there.
        var asynchronous = settings
        asynchronous.engine.indexSynchronously = false
        let indexedLater = try await inProcessEngine(asynchronous.engine)
        let reader = try await indexedLater.bus.subscribe(group: "g", consumer: "c")
        _ = try await indexedLater.store(MemoryDraft(namespace: "ns", coordinate: try Coordinate([1]), payload: ["text": "y"]))
        #expect(try await SomaApplication.outboxRelay(engine: indexedLater, settings: asynchronous).relayOnce() == 1)
        #expect(try await reader.next(timeout: .seconds(1)) != nil)
    }

    @Test func fileValuesYieldToTheEnvironment() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("soma-\(UUID()).yaml").path
        try "soma_port: 7000\nsoma_memory_namespace: from_file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (_, fromFile) = try await settings([:], file: path)
        #expect(fromFile.port == 7000 && fromFile.defaultNamespace == "from_file")
        let (_, overridden) = try await settings(["SOMA_PORT": "7100"], file: path)
        #expect(overridden.port == 7100 && overridden.defaultNamespace == "from_file")
        await #expect(throws: SettingsError.self) { _ = try await SettingsSource.load(environment: [:], file: "/nonexistent/soma.yaml") }
    }

    @Test func badValuesFailWithClearMessages() async throws {
        for environment in [["SOMA_PORT": "eighty"], ["SOMA_PORT": "70000"], ["LOG_LEVEL": "loud"], ["SOMA_MEMORY_NAMESPACE": "no spaces"],
                            ["SOMA_RATE_LIMIT_MAX": "-1"], ["SOMA_API_TOKEN_FILE": "/nonexistent/token"], ["VECTOR_INDEX_ASYNC": "perhaps"]] {
            await #expect(throws: (any Error).self, "\(environment)") { _ = try await settings(environment) }
        }
    }

    @Test func openAPIRefusesToListenBeyondLoopback() async throws {
        let (_, open) = try await settings(["SOMA_HOST": "0.0.0.0"])
        #expect(throws: SettingsError.self) { try open.checkExposure() }
        let (_, guarded) = try await settings(["SOMA_HOST": "0.0.0.0", "SOMA_API_TOKEN": "secret"])
        try guarded.checkExposure()
        let (_, local) = try await settings([:])
        try local.checkExposure()
    }

    @Test func backendNamesFollowTheURLs() async throws {
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        let (_, plain) = try await settings([:])
        #expect(plain.backends.resolved(in: registry) == [.storage: "inprocess", .cache: "inprocess", .vector: "inprocess", .bus: "inprocess", .embedder: "hash"])
        let (_, managed) = try await settings(["POSTGRES_URL": "postgresql://u:p@db/x", "REDIS_HOST": "cache", "QDRANT_URL": "http://q:6333", "KAFKA_BOOTSTRAP_SERVERS": "k:9092"])
        #expect(managed.backends.resolved(in: registry) == [.storage: "postgres", .cache: "redis", .vector: "qdrant", .bus: "kafka", .embedder: "hash"])
        let (_, noEvents) = try await settings(["KAFKA_BOOTSTRAP_SERVERS": "k:9092", "EVENTING_ENABLED": "false"])
        #expect(noEvents.backends.resolved(in: registry)[.bus] == "inprocess")
    }

    /// The in-process model is the default wherever the build has it; hashing only when asked for.
    @Test func embedderDefaultsToTheInProcessModel() async throws {
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        registry.registerEmbedder("minilm") { _ in HashEmbedder() }
        registry.registerEmbedder("openai") { _ in HashEmbedder() }
        let expectations: [([String: String], String)] = [
            ([:], "minilm"), (["POSTGRES_URL": "postgresql://u:p@db/x"], "minilm"), (["SOMA_FORCE_HASH_EMBEDDINGS": "1"], "hash"),
            (["SOMA_EMBEDDINGS_URL": "http://e/v1"], "openai"), (["SOMA_EMBEDDER": "hash"], "hash"),
            (["SOMA_FORCE_HASH_EMBEDDINGS": "0"], "minilm"),
        ]
        for (environment, expected) in expectations {
            let (_, chosen) = try await settings(environment)
            #expect(chosen.backends.resolved(in: registry)[.embedder] == expected, "\(environment)")
        }
    }

    @Test func unknownBackendFailsStartUpListingKnownNames() async throws {
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        let (source, chosen) = try await settings(["SOMA_STORAGE": "cassandra"])
        await #expect(throws: BackendError.unknownBackend(capability: .storage, name: "cassandra", known: ["inprocess"])) {
            _ = try await EngineAssembly.build(registry: registry, source: source, settings: chosen, logger: .init(label: "test"))
        }
    }

    @Test func secretsAreRedacted() {
        #expect(Redaction.url("postgresql://soma:hunter2@db:5432/soma?sslmode=require") == "postgresql://soma:***@db:5432/soma")
        #expect(!Redaction.url("redis://:pw@cache:6379/0").contains("pw"))
    }
}

@Suite struct SettingCatalogueTests {
    /// Fails when code reads a setting the catalogue (and so `soma config`, the README table's
    /// source and the Helm chart's drift test) does not know.
    @Test func everyNameReadInTheSourcesIsCatalogued() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources")
        let pattern = try Regex(#""((?:SOMA|POSTGRES|REDIS|QDRANT|KAFKA|EVENTING|VECTOR|LOG)_[A-Z0-9_]+)""#)
        var seen: Set<String> = []
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: pattern) {
                seen.insert(String(match.output[1].substring!))
            }
        }
        #expect(seen.count > 20, "the scan found the settings")
        let unknown = seen.subtracting(SettingCatalogue.names)
        #expect(unknown.isEmpty, "read but not catalogued: \(unknown.sorted())")
    }
}
