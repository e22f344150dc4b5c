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

    @Option(name: .customLong("metrics-port"), help: "Port for /healthz, /readyz and /metrics (CONSUMER_METRICS_PORT, default 8001).")
    var metricsPort: Int?

    func run() async throws {
        let started = try await options.start(label: "soma-consume", exposed: false)
        let (settings, logger) = (started.settings, started.logger)
        let port = metricsPort ?? settings.consumerMetricsPort
        try await BackendLifetime.serve(grace: settings.shutdownGrace, logger: logger) { lifetime in
            let engine = try await started.engine(in: lifetime)
            logger.info("consuming", metadata: ["group": .string(settings.consumerGroup), "metrics_port": .stringConvertible(port)])
            return Application(
                router: SomaApplication.operationsRouter(engine: engine),
                server: SomaApplication.httpServer(settings),
                configuration: .init(address: .hostname(settings.host, port: port), serverName: "soma-consume"),
                services: SomaApplication.consumerServices(engine: engine, settings: settings, logger: logger),
                logger: logger)
        }
    }
}
