import Synchronization

/// Fixed-window counters in process memory: a key's window starts at its first increment and
/// really ends (the count starts anew after it). The in-process cache counts with them, and the
/// rate limit falls back to them while a shared cache is away.
public final class WindowCounters: Sendable {
    private struct Counter {
        var count: Int
        var expires: ContinuousClock.Instant
    }

    private let counters = Mutex<[String: Counter]>([:])
    private let clock = ContinuousClock()
    /// Past this many keys, expired ones are dropped before the next is added.
    private let sweepAbove: Int

    public init(sweepAbove: Int = 100_000) {
        self.sweepAbove = sweepAbove
    }

    public func increment(_ key: String, window: Duration) -> CounterValue {
        let now = clock.now
        return counters.withLock { counters in
            if counters.count > sweepAbove {
                counters = counters.filter { $0.value.expires > now }
            }
            var counter = counters[key].flatMap { $0.expires > now ? $0 : nil } ?? Counter(count: 0, expires: now.advanced(by: window))
            counter.count += 1
            counters[key] = counter
            return CounterValue(count: counter.count, resetsIn: now.duration(to: counter.expires))
        }
    }
}
