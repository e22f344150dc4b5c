import Dispatch
import Hummingbird
import Prometheus

/// The original service's metric names, with its labels, beside Hummingbird's, so its alert rules
/// and dashboards keep working: `api_requests_total{endpoint,method}`,
/// `api_request_latency_seconds{endpoint,method}`, `api_responses_total{endpoint,method,status}`
/// and `http_404_requests_total`. `endpoint` is the matched route (`/store`, `/v1/memories/{coord}`);
/// the original used the raw path, which would give a scanner one series per path it tried, so
/// paths no route matches share one series, `endpoint="NotFound"` (as Hummingbird labels them).
struct OriginalMetricsMiddleware: RouterMiddleware {
    typealias Context = SomaRequestContext
    let registry: PrometheusCollectorRegistry
    static let latencyBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10].map {
        .milliseconds(Int($0 * 1000))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status, started: started)
            return response
        } catch {
            record(request, context, status: APIError.from(error).status, started: started)
            throw error
        }
    }

    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "api_requests", unitName: "total", helpText: "Total number of API requests")
    }
    static var latency: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "api_request_latency", unitName: "seconds", helpText: "Latency of API requests in seconds")
    }
    static var responses: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "api_responses", unitName: "total", helpText: "API responses by status code")
    }
    static var notFound: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "http_404_requests", unitName: "total", helpText: "Total number of HTTP 404 (Not Found) responses")
    }

    private func record(_ request: Request, _ context: Context, status: HTTPResponse.Status, started: UInt64) {
        let endpoint = context.endpointPath ?? "NotFound"
        let labels = [("endpoint", endpoint), ("method", request.method.rawValue)]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: Self.latency, labels: labels, buckets: Self.latencyBuckets)
            .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        registry.makeCounter(descriptor: Self.responses, labels: labels + [("status", String(status.code))]).increment()
        if status == .notFound { registry.makeCounter(descriptor: Self.notFound).increment() }
    }
}
