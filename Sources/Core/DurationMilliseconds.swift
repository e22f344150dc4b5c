extension Duration {
    /// Whole milliseconds, rounded down: what timeouts and expiries in wire protocols take.
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
