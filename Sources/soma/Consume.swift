import ArgumentParser
import Hummingbird
import Logging
import SomaCore
import SomaService

/// The consumer pod: applies memory events from the bus to the vector index, and serves its own
/// probes and metrics on a small port.
struct Consume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Consume memory events and index their vectors (the consumer pod).")

    @OptionGroup var options: ServerOptions

    @Option(name: .customLong("metrics-port"), help: "Port for /healthz, /readyz and /metrics (default 9596).")
    var metricsPort = 9596

    func run() async throws {
        let (source, settings, logger, engine) = try await options.start(label: "soma-consume", exposed: false)
        let group = source.string("KAFKA_CONSUMER_GROUP") ?? "soma-consumer"
        logger.info("consuming", metadata: ["group": .string(group), "metrics_port": .stringConvertible(metricsPort)])
        let app = Application(
            router: SomaApplication.operationsRouter(engine: engine),
            configuration: .init(address: .hostname(settings.host, port: metricsPort), serverName: "soma-consume"),
            services: [ConsumerService(engine: engine, group: group, logger: logger)],
            logger: logger)
        try await SomaApplication.run(app, grace: settings.shutdownGrace, logger: logger)
    }
}
