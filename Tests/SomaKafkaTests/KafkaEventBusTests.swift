import ConformanceKit
import Foundation
import SomaCore
import SomaKafka
import Testing

@Suite(
    "Kafka bus against a broker: librdkafka's mock cluster, or Tansu",
    .enabled(if: TestServers.kafkaBootstrap != nil, Comment(rawValue: TestServers.kafkaMissing)))
struct KafkaEventBusTests {
    /// A topic per bus, so a new group (which starts at the oldest event) reads only its own test's events.
    static func bus() throws -> KafkaEventBus {
        var settings = KafkaSettings(bootstrapServers: TestServers.kafkaBootstrap!)
        settings.topic = "test.events.\(UUID().uuidString.prefix(8).lowercased())"
        settings.sessionTimeout = .seconds(6)
        return try KafkaEventBus(settings: settings)
    }

    @Test(arguments: BusConformance.checks)
    func conformance(_ check: BusConformance.Check) async throws {
        try await check.run(try Self.bus())
    }

    /// The tests run the librdkafka production runs (scripts/install-librdkafka.sh), not the
    /// build's Debian one: LD_LIBRARY_PATH must put it first.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SOMA_TEST_LIBRDKAFKA_DIR"] != nil, "needs scripts/servers.sh's librdkafka"))
    func theClientIsTheOneProductionRuns() throws {
        let directory = ProcessInfo.processInfo.environment["SOMA_TEST_LIBRDKAFKA_DIR"]!
        let pinned = try String(contentsOfFile: directory + "/VERSION", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(KafkaLibrary.version == pinned, "set LD_LIBRARY_PATH=\(directory)")
    }

    /// Its row of the ability matrix: a durable log, nothing else declared.
    @Test func declaredAbilities() throws {
        #expect(Abilities.of(try Self.bus()).isEmpty)
    }
}
