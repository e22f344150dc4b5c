import Foundation
import SomaCore
import SomaInProcess
import Synchronization
import Testing
@testable import SomaService

@Suite struct SettingsTests {
    func settings(_ environment: [String: String], file: String? = nil) async throws -> (SettingsSource, ServiceSettings) {
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        let source = try await SettingsSource.load(environment: environment, file: file, catalogue: SettingCatalogue(registry: registry))
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
        let relay = SomaApplication.outboxRelay(engine: engine, plan: IndexingPlan(settings, bus: engine.bus))
        #expect(try await relay.relayOnce() == 1)
        #expect(try await engine.storage.pendingEvents(limit: 10).isEmpty, "the outbox does not grow")
        let subscription = try await engine.bus.subscribe(group: "g", consumer: "c")
        #expect(try await subscription.next(timeout: .milliseconds(50)) == nil, "no event reached the bus")
    }

    @Test func anInProcessBusNobodyReadsIsNotFilled() async throws {
        let settings = testSettings {
            $0.eventingEnabled = true; $0.engine.indexSynchronously = true
        }
        let engine = try await inProcessEngine(settings.engine)
        for number in 0..<3 {
            _ = try await engine.store(MemoryDraft(namespace: "ns", coordinate: try Coordinate([Double(number)]), payload: ["text": "x"]))
        }
        #expect(try await SomaApplication.outboxRelay(engine: engine, plan: IndexingPlan(settings, bus: engine.bus)).relayOnce() == 3)
        #expect(try await engine.storage.pendingEvents(limit: 10).isEmpty, "the outbox does not grow")
        let subscription = try await engine.bus.subscribe(group: "g", consumer: "c")
        #expect(try await subscription.next(timeout: .milliseconds(50)) == nil, "the in-process log kept no event")

        // With asynchronous indexing the process's own consumer reads the bus: events go there.
        var asynchronous = settings
        asynchronous.engine.indexSynchronously = false
        let indexedLater = try await inProcessEngine(asynchronous.engine)
        let reader = try await indexedLater.bus.subscribe(group: "g", consumer: "c")
        _ = try await indexedLater.store(MemoryDraft(namespace: "ns", coordinate: try Coordinate([1]), payload: ["text": "y"]))
        #expect(try await SomaApplication.outboxRelay(engine: indexedLater, plan: IndexingPlan(asynchronous, bus: indexedLater.bus)).relayOnce() == 1)
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
        await #expect(throws: SettingsError.self) {
            _ = try await SettingsSource.load(
                environment: [:], file: "/nonexistent/soma.yaml", catalogue: SettingCatalogue(registry: BackendRegistry()))
        }
    }

    @Test func badValuesFailWithClearMessages() async throws {
        for environment in [
            ["SOMA_PORT": "eighty"], ["SOMA_PORT": "70000"], ["LOG_LEVEL": "loud"], ["SOMA_MEMORY_NAMESPACE": "no spaces"],
            ["SOMA_RATE_LIMIT_MAX": "-1"], ["SOMA_API_TOKEN_FILE": "/nonexistent/token"], ["VECTOR_INDEX_ASYNC": "perhaps"],
        ] {
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

    /// With only the in-process backends, each capability falls back to them (the real backends'
    /// own choices are tested with the whole registry in SomaTests).
    @Test func theFallbacksServeWhenNothingElseIsRegistered() async throws {
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        let (_, plain) = try await settings(["POSTGRES_URL": "postgresql://u:p@db/x"])
        #expect(
            try plain.backends.resolved(in: registry) == [
                .storage: "inprocess", .cache: "inprocess", .vector: "inprocess", .bus: "inprocess", .embedder: "hash",
            ])
        #expect(try plain.backends.chosen(in: registry)[.storage]?.reason == "nothing else is configured")
        let (_, forced) = try await settings(["SOMA_FORCE_HASH_EMBEDDINGS": "1"])
        #expect(try forced.backends.chosen(in: registry)[.embedder] == ChosenBackend(name: "hash", reason: "SOMA_FORCE_HASH_EMBEDDINGS is true"))
    }

    @Test func unknownBackendFailsStartUpListingKnownNames() async throws {
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        let (source, chosen) = try await settings(["SOMA_STORAGE": "cassandra"])
        await #expect(throws: BackendError.unknownBackend(capability: .storage, name: "cassandra", known: ["inprocess"])) {
            try await BackendLifetime.during(logger: .init(label: "test")) { [registry] lifetime in
                _ = try await EngineAssembly.build(registry: registry, source: source, settings: chosen, logger: .init(label: "test"), in: lifetime)
            }
        }
    }

    @Test func secretsAreRedacted() {
        #expect(Redaction.url("postgresql://soma:hunter2@db:5432/soma?sslmode=require") == "postgresql://soma:***@db:5432/soma")
        #expect(!Redaction.url("redis://:pw@cache:6379/0").contains("pw"))
    }
}

/// A backend registered from outside: its settings reach the catalogue, the secrets, the automatic
/// choice, the start-up choice's reason and `soma config`, with nothing else edited.
@Suite struct RegisteredBackendTests {
    static let directory = Setting<String?>("FILECACHE_DIR", shownDefault: "/var/cache/soma", "Where the cache keeps its files")
    static let key = Setting<String?>("FILECACHE_KEY", secret: true, "The key the files are sealed with")
    static let fileCache = BackendDescription(
        name: "filecache",
        settings: [directory, key],
        automatic: [.whenSet(directory, priority: 150)],
        location: { (try? $0.value(directory)).flatMap { $0 } ?? "/var/cache/soma" })

    @Test func aNewBackendsSettingsAppearEverywhere() async throws {
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        registry.registerCache(Self.fileCache) { _ in Provisioned(InProcessCache()) }
        let catalogue = SettingCatalogue(registry: registry)
        #expect(catalogue.names.contains("FILECACHE_DIR") && catalogue.names.contains("FILECACHE_KEY"))
        #expect(catalogue.isSecret("FILECACHE_KEY") && !catalogue.isSecret("FILECACHE_DIR") && catalogue.isSecret("SOMA_API_TOKEN"))
        #expect(ConfigListing.described(catalogue).contains("FILECACHE_DIR=/var/cache/soma  # Where the cache keeps its files"))

        let source = try await SettingsSource.load(environment: ["FILECACHE_DIR": "/srv/cache", "FILECACHE_KEY": "hunter2"], catalogue: catalogue)
        let settings = try ServiceSettings.read(source)
        let chosen = try settings.backends.chosen(in: registry)
        #expect(chosen[.cache] == ChosenBackend(name: "filecache", reason: "FILECACHE_DIR is set"))
        #expect(chosen[.storage]?.name == "inprocess", "other capabilities keep their own choice")
        let listing = ConfigListing.effective(catalogue, source, chosen: chosen)
        #expect(listing.contains("FILECACHE_DIR=/srv/cache") && listing.contains("FILECACHE_KEY=***"))
        #expect(listing.contains("backend.cache=filecache  # FILECACHE_DIR is set"))
        #expect(!listing.joined().contains("hunter2"), "the secret is never printed")
        #expect(registry.description(.cache, "filecache")?.location(source.backendConfiguration) == "/srv/cache")

        // Without its setting, the in-process cache is chosen as before.
        let unset = try ServiceSettings.read(try await SettingsSource.load(environment: [:], catalogue: catalogue))
        #expect(try unset.backends.chosen(in: registry)[.cache]?.name == "inprocess")
    }

    /// What a factory returns beside its backend runs under the lifetime the engine is built in:
    /// started before its readiness check, stopped when the lifetime ends, after the job.
    @Test func aBackendsServicesRunUnderTheLifetimeAndStopWithIt() async throws {
        let events = Mutex<[String]>([])
        var registry = BackendRegistry()
        InProcessBackends.register(into: &registry)
        registry.registerCache(Self.fileCache) { _ in
            let pool = CloseAtShutdown { events.withLock { $0.append("closed") } }
            return Provisioned(InProcessCache(), services: [pool]) { events.withLock { $0.append("ready") } }
        }
        let source = try await SettingsSource.load(environment: ["FILECACHE_DIR": "/srv/cache"], catalogue: SettingCatalogue(registry: registry))
        let settings = try ServiceSettings.read(source)
        try await BackendLifetime.during(logger: .init(label: "test")) { [registry] lifetime in
            let engine = try await EngineAssembly.build(
                registry: registry, source: source, settings: settings, logger: .init(label: "test"), in: lifetime)
            #expect(await engine.cache.isHealthy())
            events.withLock { $0.append("job") }
        }
        #expect(events.withLock { $0 } == ["ready", "job", "closed"])
    }

    @Test func aBackendThatIsNeverChosenByItselfMustBeNamed() async throws {
        var registry = BackendRegistry()
        registry.registerStorage(BackendDescription(name: "manual")) { _ in Provisioned(InProcessStorage()) }
        #expect(throws: BackendError.self) { try registry.choose(named: [:], BackendConfiguration([:])) }
        InProcessBackends.register(into: &registry)
        let others: [Capability: String] = [.cache: "inprocess", .vector: "inprocess", .bus: "inprocess", .embedder: "hash"]
        let named = try registry.choose(named: others.merging([.storage: "manual"]) { a, _ in a }, BackendConfiguration([:]))
        #expect(named[.storage] == ChosenBackend(name: "manual", reason: "SOMA_STORAGE names it"))
        // A name nothing registered fails the choice itself, listing what this build has.
        #expect(throws: BackendError.unknownBackend(capability: .storage, name: "mongo", known: ["inprocess", "manual"])) {
            try registry.choose(named: others.merging([.storage: "mongo"]) { a, _ in a }, BackendConfiguration([:]))
        }
    }
}

@Suite struct IndexingPlanTests {
    @Test func oneDecisionSaysWhoIndexesAndWhereEventsGo() {
        let volatile = InProcessEventBus(), shared = DiscardedEvents()
        let apiAlone = IndexingPlan(indexSynchronously: true, eventingEnabled: true, bus: volatile)
        #expect(apiAlone.indexer == .api && !apiAlone.publishesEvents && apiAlone.repairsHere, "nobody reads this process's own bus")
        let apiWithShared = IndexingPlan(indexSynchronously: true, eventingEnabled: true, bus: shared)
        #expect(apiWithShared.indexer == .api && apiWithShared.publishesEvents, "other readers may follow a shared bus")
        let ownConsumer = IndexingPlan(indexSynchronously: false, eventingEnabled: true, bus: volatile)
        #expect(ownConsumer.indexer == .thisProcess && ownConsumer.publishesEvents && ownConsumer.repairsHere)
        let pods = IndexingPlan(indexSynchronously: false, eventingEnabled: true, bus: shared)
        #expect(pods.indexer == .consumerPods && pods.publishesEvents && !pods.repairsHere)
        let quiet = IndexingPlan(indexSynchronously: true, eventingEnabled: false, bus: shared)
        #expect(quiet.indexer == .api && !quiet.publishesEvents)
    }
}

@Suite struct LayeringTests {
    /// The service knows capabilities, never concrete backends: it imports SomaCore and no backend target.
    @Test func theServiceImportsNoBackendTarget() throws {
        let sources = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Sources/Service").standardized
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL })
            .filter { $0.pathExtension == "swift" }
        #expect(files.count > 20, "the service's sources were found")
        for file in files {
            let imports = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("import Soma") }
            #expect(imports.allSatisfy { $0 == "import SomaCore" }, "\(file.lastPathComponent): \(imports)")
        }
    }
}
