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

    public init(_ configuration: BackendConfiguration) throws {
        guard let servers = configuration.string("KAFKA_BOOTSTRAP_SERVERS"), !servers.isEmpty else {
            throw BackendError.invalidSetting(name: "KAFKA_BOOTSTRAP_SERVERS", reason: "required for SOMA_BUS=kafka (host:port[,host:port])")
        }
        bootstrapServers = servers
        topic = configuration.string("KAFKA_MEMORY_EVENTS_TOPIC") ?? topic
        securityProtocol = configuration.string("KAFKA_SECURITY_PROTOCOL")
        saslMechanism = configuration.string("KAFKA_SASL_MECHANISM")
        saslUsername = configuration.string("KAFKA_SASL_USERNAME")
        saslPassword = configuration.string("KAFKA_SASL_PASSWORD")
        sslCALocation = configuration.string("KAFKA_SSL_CA_LOCATION")
        sessionTimeout = .milliseconds(try configuration.int("KAFKA_SESSION_TIMEOUT_MS", default: 45_000))
        deliveryTimeout = .milliseconds(try configuration.int("KAFKA_DELIVERY_TIMEOUT_MS", default: 30_000))
        guard !topic.isEmpty else { throw BackendError.invalidSetting(name: "KAFKA_MEMORY_EVENTS_TOPIC", reason: "must not be empty") }
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
