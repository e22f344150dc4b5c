import ConformanceKit
import FileCache
import Foundation
import SomaCore
import Testing

@Suite struct FileCacheTests {
    static let directory = FileManager.default.temporaryDirectory.appending(path: "filecache-\(UUID())").path()
    static let cache = try! FileCache(directory: directory)

    /// The behaviour every cache must show, as the built-in caches are held to it.
    @Test(arguments: CacheConformance.checks)
    func conformance(_ check: CacheConformance.Check) async throws {
        try await check.run(Self.cache)
    }

    @Test func entriesOutliveTheObjectThatWroteThem() async throws {
        try await Self.cache.put("soma:mem:kept", value: [7, 8, 9], order: 1, ttl: .seconds(60))
        let reopened = try FileCache(directory: Self.directory)
        #expect(try await reopened.get("soma:mem:kept") == [7, 8, 9])
    }

    @Test func itIsChosenWhenItsDirectoryIsSetAndDescribesItself() throws {
        var registry = BackendRegistry()
        FileCacheBackend.register(into: &registry)
        // The other capabilities need a backend of some name to be named (never built here).
        struct NeverBuilt: Error {}
        registry.registerStorage(BackendDescription(name: "x")) { _ in throw NeverBuilt() }
        registry.registerVector(BackendDescription(name: "x")) { _, _ in throw NeverBuilt() }
        registry.registerBus(BackendDescription(name: "x")) { _ in throw NeverBuilt() }
        registry.registerEmbedder(BackendDescription(name: "x")) { _ in throw NeverBuilt() }
        #expect(registry.settings.map(\.name) == ["FILECACHE_DIR"])
        let named: [Capability: String] = [.storage: "x", .vector: "x", .bus: "x", .embedder: "x"]
        let chosen = try registry.choose(named: named, BackendConfiguration(["FILECACHE_DIR": "/srv/cache"]))
        #expect(chosen[.cache] == ChosenBackend(name: "filecache", reason: "FILECACHE_DIR is set"))
        #expect(throws: BackendError.self) { try registry.choose(named: named, BackendConfiguration([:])) }
    }
}
