import SomaCore

/// Where the brokers are and how to reach them, from the service's settings.
///
/// Security settings are passed through to librdkafka unchanged, so every mechanism it supports
/// (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL with PLAIN or SCRAM) works without code here.
public struct KafkaSettings: Sendable, CustomStringConvertible {
    public var bootstrapServers: String
    public var topic = "memory.events"
    public var securityProtocol: String?
    public var saslMechanism: String?
    public var saslUsername: String?
    public var saslPassword: String?
    public var sslCALocation: String?
    /// How long the group waits for a silent member before giving its partitions to another.
    public var sessionTimeout: Duration = .seconds(45)
    /// How long a publish may wait for the brokers to confirm it.
    public var deliveryTimeout: Duration = .seconds(30)

    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    static let servers = Setting<String?>("KAFKA_BOOTSTRAP_SERVERS", "Setting the brokers (with eventing on) selects the Kafka bus")
    static let topicSetting = Setting<String>(
        "KAFKA_MEMORY_EVENTS_TOPIC", default: "memory.events", "The events' topic; dead letters go to `<topic>.dlq`")
    static let securityProtocolSetting = Setting<String?>("KAFKA_SECURITY_PROTOCOL", "librdkafka's `security.protocol`")
    static let saslMechanismSetting = Setting<String?>("KAFKA_SASL_MECHANISM", "librdkafka's `sasl.mechanism`")
    static let saslUsernameSetting = Setting<String?>("KAFKA_SASL_USERNAME", "librdkafka's `sasl.username`")
    static let saslPasswordSetting = Setting<String?>("KAFKA_SASL_PASSWORD", secret: true, "librdkafka's `sasl.password`")
    static let sslCALocationSetting = Setting<String?>("KAFKA_SSL_CA_LOCATION", "librdkafka's `ssl.ca.location`")
    static let sessionTimeoutSetting = Setting<Int>(
        "KAFKA_SESSION_TIMEOUT_MS", default: 45_000, in: 1...3_600_000, "How long the group waits for a silent member")
    static let deliveryTimeoutSetting = Setting<Int>(
        "KAFKA_DELIVERY_TIMEOUT_MS", default: 30_000, in: 1...3_600_000, "How long a publish may take before it fails")
    static let settings: [any DeclaredSetting] = [
        servers, topicSetting, securityProtocolSetting, saslMechanismSetting, saslUsernameSetting, saslPasswordSetting, sslCALocationSetting,
        sessionTimeoutSetting, deliveryTimeoutSetting, SharedSettings.eventingEnabled,
    ]

    public init(_ configuration: BackendConfiguration) throws {
        guard let servers = try configuration.value(Self.servers) else {
            throw BackendError.invalidSetting(name: Self.servers.name, reason: "required for SOMA_BUS=kafka (host:port[,host:port])")
        }
        bootstrapServers = servers
        topic = try configuration.value(Self.topicSetting)
        securityProtocol = try configuration.value(Self.securityProtocolSetting)
        saslMechanism = try configuration.value(Self.saslMechanismSetting)
        saslUsername = try configuration.value(Self.saslUsernameSetting)
        saslPassword = try configuration.value(Self.saslPasswordSetting)
        sslCALocation = try configuration.value(Self.sslCALocationSetting)
        sessionTimeout = .milliseconds(try configuration.value(Self.sessionTimeoutSetting))
        deliveryTimeout = .milliseconds(try configuration.value(Self.deliveryTimeoutSetting))
    }

    /// Where events that failed every retry go, with the error in a header.
    public var deadLetterTopic: String { topic + ".dlq" }

    /// Properties every client of these brokers shares.
    var common: [(String, String)] {
        // A broker back after an outage is noticed within a second: librdkafka's reconnect backoff
        // grows to 10 s by default, and the fault drill saw readiness stay degraded that long.
        var properties = [("bootstrap.servers", bootstrapServers), ("client.id", "soma"), ("reconnect.backoff.max.ms", "1000")]
        if let securityProtocol { properties.append(("security.protocol", securityProtocol)) }
        if let saslMechanism { properties.append(("sasl.mechanism", saslMechanism)) }
        if let saslUsername { properties.append(("sasl.username", saslUsername)) }
        if let saslPassword { properties.append(("sasl.password", saslPassword)) }
        if let sslCALocation { properties.append(("ssl.ca.location", sslCALocation)) }
        return properties
    }

    /// Never shows the SASL password.
    public var description: String {
        "kafka \(bootstrapServers) topic \(topic)" + (securityProtocol.map { " (\($0))" } ?? "")
    }
}
