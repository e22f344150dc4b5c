import Metrics
import Prometheus
import Synchronization

/// swift-metrics has one global backend per process; the first caller installs Prometheus and
/// every application in the process (tests make many) shares its registry.
public enum MetricsBootstrap {
    private static let installed = Mutex<PrometheusCollectorRegistry?>(nil)

    public static var registry: PrometheusCollectorRegistry {
        installed.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: created))
            registry = created
            return created
        }
    }
}
