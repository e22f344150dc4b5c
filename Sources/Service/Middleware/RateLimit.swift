import Hummingbird
import SomaCore

/// A fixed-window limit: at most `max` requests per principal per window. The window starts at a
/// principal's first request and really ends: the counter expires and the next request starts anew.
public struct RateLimitPolicy: Sendable, Equatable {
    public var max: Int
    public var window: Duration

    public init(max: Int, window: Duration) {
        self.max = max
        self.window = window
    }

    public var isEnabled: Bool { max > 0 }

    public enum Decision: Equatable, Sendable {
        case allow
        /// Refuse; the client may retry after this many whole seconds.
        case refuse(retryAfter: Int)
    }

    public func decide(_ counter: CounterValue) -> Decision {
        guard isEnabled, counter.count > max else { return .allow }
        let seconds = Double(counter.resetsIn.components.seconds) + Double(counter.resetsIn.components.attoseconds) / 1e18
        return .refuse(retryAfter: Swift.max(1, Int(seconds.rounded(.up))))
    }
}

struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = SomaRequestContext

    let policy: RateLimitPolicy
    let cache: any MemoryCache
    /// Counts in this process when the cache shares no counters, or while it is away, so the limit
    /// still holds per replica.
    let localCounters = WindowCounters()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard policy.isEnabled, !AuthMiddleware.isOpen(request.uri.path) else {
            return try await next(request, context)
        }
        // A cache that is away must not take the API down with it: the limit falls back to this process.
        let key = "soma:rl:\(context.principal)"
        var counter = try? await cache.sharedCounters?.increment(key, window: policy.window)
        if counter == nil { counter = localCounters.increment(key, window: policy.window) }
        if let counter, case .refuse(let retryAfter) = policy.decide(counter) {
            throw APIError(
                .tooManyRequests, code: "rate_limited", "rate limit of \(policy.max) requests per window exceeded; retry after \(retryAfter) s",
                headers: [.retryAfter: String(retryAfter)])
        }
        return try await next(request, context)
    }
}
