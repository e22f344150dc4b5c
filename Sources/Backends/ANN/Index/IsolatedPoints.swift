/// The graph points least like their closest graph neighbour, which every search also scores
/// exactly. A memory unlike all others among many near-duplicates is linked to from a few of them,
/// and a search for it, starting among the near-duplicates most like the query, can stop before
/// it gets there at any breadth (a user try: 6,000 templated notes, and the one memory that
/// answered scored 0.67 while the graph returned notes at 0.20; BENCHMARKS.md).
struct IsolatedPoints {
    /// Ascending similarity: the most isolated first.
    private var points: [(label: Int, similarity: Float)] = [] {
        didSet { labels = points.map(\.label) }
    }
    /// The points' labels, kept beside them: a search copies this array, not the points.
    private(set) var labels: [Int] = []

    /// One point in a thousand, within 32 and 256: each search scores them all (200 of them at
    /// 20,000 points cost vector recall about a sixth of its rate; BENCHMARKS.md).
    static func capacity(graphSize: Int) -> Int { min(256, max(32, graphSize / 1000)) }

    init() {}

    /// The most isolated `capacity` of `points`.
    init(_ points: [(label: Int, similarity: Float)], capacity: Int) {
        self.points = Array(points.sorted { $0.similarity < $1.similarity }.prefix(capacity))
        labels = self.points.map(\.label)
    }

    /// Keeps a point just put into the graph if it is among the `capacity` most isolated.
    mutating func offer(_ label: Int, similarity: Float, capacity: Int) {
        if points.count >= capacity, let last = points.last, similarity >= last.similarity { return }
        let position = points.firstIndex { $0.similarity > similarity } ?? points.count
        points.insert((label, similarity), at: position)
        if points.count > capacity { points.removeLast(points.count - capacity) }
    }

    /// Keeps those of `other`'s points that are among the `capacity` most isolated.
    mutating func offer(_ other: IsolatedPoints, capacity: Int) {
        for point in other.points where !labels.contains(point.label) { offer(point.label, similarity: point.similarity, capacity: capacity) }
    }
}
