import Prometheus

/// What the service runs and how its index keeps up, for dashboards and the console's overview.
enum ServiceInfoMetrics {
    static var backend: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "soma_backend", unitName: "info", helpText: "The backend serving each capability (value 1)")
    }
    static var embedder: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "soma_embedder", unitName: "info", helpText: "The embedding model in use and its dimension (value 1)")
    }
    static var pendingVectors: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "soma_vector_index_pending", unitName: "vectors", helpText: "Vectors waiting to be merged into the in-process graph")
    }
    static var lastSave: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "soma_vector_index_last_save_timestamp", unitName: "seconds", helpText: "When the in-process graph was last saved")
    }
}
