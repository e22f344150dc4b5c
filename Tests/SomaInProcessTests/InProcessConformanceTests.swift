import ConformanceKit
import SomaCore
import SomaInProcess
import Testing

@Suite("In-process backends meet the ConformanceKit suites")
struct InProcessConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func storage(_ check: StorageConformance.Check) async throws {
        try await check.run(InProcessStorage())
    }

    /// The storage suite, word search included, for a storage that declares no word search: the
    /// engine's fallback (`ScannedWordSearch`) must meet it too.
    @Test(arguments: StorageConformance.checks)
    func storageWithoutWordSearch(_ check: StorageConformance.Check) async throws {
        try await check.run(StorageWithoutWordSearch(InProcessStorage()))
    }

    @Test(arguments: CacheConformance.checks)
    func cache(_ check: CacheConformance.Check) async throws {
        try await check.run(InProcessCache())
    }

    @Test(arguments: VectorConformance.checks)
    func vector(_ check: VectorConformance.Check) async throws {
        try await check.run(InProcessVectorIndex())
    }

    @Test(arguments: BusConformance.checks + VolatileBusConformance.checks)
    func bus(_ check: BusConformance.Check) async throws {
        try await check.run(InProcessEventBus())
    }

    @Test(arguments: EmbedderConformance.checks)
    func hashEmbedder(_ check: EmbedderConformance.Check) async throws {
        try await check.run(HashEmbedder(dimension: 64))
    }

    /// Their row of the ability matrix: what each declares, so the suites above run for it.
    @Test func declaredAbilities() {
        #expect(Abilities.of(InProcessStorage()) == [.wordSearch])
        #expect(Abilities.of(InProcessCache()).isEmpty)
        #expect(Abilities.of(InProcessVectorIndex()).isEmpty)
        #expect(Abilities.of(InProcessEventBus()) == [.volatileLog])
        #expect(Abilities.of(StorageWithoutWordSearch(InProcessStorage())).isEmpty)
    }
}
