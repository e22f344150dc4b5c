import SomaCore

/// Registers the Kafka event bus under the name `kafka`.
public enum KafkaBackends {
    public static let name = "kafka"

    public static func register(into registry: inout BackendRegistry) {
        registry.registerBus(name) { configuration in
            try KafkaEventBus(settings: try KafkaSettings(configuration))
        }
    }
}
