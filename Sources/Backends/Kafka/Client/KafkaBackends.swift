import SomaCore

/// Registers the Kafka event bus under the name `kafka`.
public enum KafkaBackends {
    public static let name = "kafka"

    public static func register(into registry: inout BackendRegistry) {
        let description = BackendDescription(
            name: name,
            settings: [
                SettingDescription("KAFKA_BOOTSTRAP_SERVERS", "Setting the brokers (with eventing on) selects the Kafka bus"),
                SettingDescription("KAFKA_MEMORY_EVENTS_TOPIC", default: "memory.events", "The events' topic; dead letters go to `<topic>.dlq`"),
                SettingDescription("KAFKA_SECURITY_PROTOCOL", "librdkafka's `security.protocol`"),
                SettingDescription("KAFKA_SASL_MECHANISM", "librdkafka's `sasl.mechanism`"),
                SettingDescription("KAFKA_SASL_USERNAME", "librdkafka's `sasl.username`"),
                SettingDescription("KAFKA_SASL_PASSWORD", secret: true, "librdkafka's `sasl.password`"),
                SettingDescription("KAFKA_SSL_CA_LOCATION", "librdkafka's `ssl.ca.location`"),
                SettingDescription("KAFKA_SESSION_TIMEOUT_MS", default: "45000", "How long the group waits for a silent member"),
                SettingDescription("KAFKA_DELIVERY_TIMEOUT_MS", default: "30000", "How long a publish may take before it fails"),
                SettingDescription("EVENTING_ENABLED", default: "true", "Kafka is chosen by itself only while events are relayed"),
            ],
            automatic: [
                AutomaticChoice(priority: 100, when: "KAFKA_BOOTSTRAP_SERVERS is set and EVENTING_ENABLED is not false") { configuration, _ in
                    configuration.string("KAFKA_BOOTSTRAP_SERVERS") != nil && ((try? configuration.bool("EVENTING_ENABLED", default: true)) ?? true)
                },
            ],
            location: { configuration in configuration.string("KAFKA_BOOTSTRAP_SERVERS") ?? "configured" })
        registry.registerBus(description) { configuration in
            let bus = try KafkaEventBus(settings: try KafkaSettings(configuration))
            return Provisioned(bus, services: [CloseAtShutdown { await bus.producer.close() }])
        }
    }
}
