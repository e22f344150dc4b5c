import ConformanceKit
import Foundation
import SomaCore
import SomaKafka
import Testing

@Suite("Kafka bus against librdkafka's mock cluster", .enabled(if: TestServers.kafkaBootstrap != nil, Comment(rawValue: TestServers.kafkaMissing)))
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

    /// Its row of the ability matrix: a durable log, nothing else declared.
    @Test func declaredAbilities() throws {
        #expect(Abilities.of(try Self.bus()).isEmpty)
    }
}
