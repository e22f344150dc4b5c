import SomaCore

/// Registers the Kafka event bus under the name `kafka`.
public enum KafkaBackends {
    public static let name = "kafka"

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: name,
            settings: KafkaSettings.settings,
            automatic: [
                AutomaticChoice(
                    priority: 100, when: "\(KafkaSettings.servers.name) is set and \(SharedSettings.eventingEnabled.name) is not false"
                ) { configuration, _ in
                    configuration.isSet(KafkaSettings.servers) && ((try? configuration.value(SharedSettings.eventingEnabled)) ?? true)
                }
            ],
            diagnosis: "check \(KafkaSettings.servers.name), \(KafkaSettings.securityProtocolSetting.name) and KAFKA_SASL_* "
                + "(or set \(SharedSettings.eventingEnabled.name)=false)",
            location: { configuration in
                "\((try? configuration.value(KafkaSettings.servers)).flatMap { $0 } ?? "configured") (librdkafka \(KafkaLibrary.version))"
            })
        registry.registerBus(description) { configuration in
            let bus = try KafkaEventBus(settings: try KafkaSettings(configuration))
            return Provisioned(bus, services: [CloseAtShutdown { await bus.producer.close() }])
        }
    }
}
