/// Dijkstra over links with a bound on the number of hops, as a plain value: the engine feeds it
/// each node's links, tests can feed it any graph. Weights are costs and must be >= 0.
struct PathSearch {
    private struct State {
        var node: Coordinate
        var hops: Int
        var cost: Double
        var path: [Coordinate]
    }

    let goal: Coordinate
    let maxDepth: Int
    let maxExpansions: Int
    private(set) var result: PathResult?
    private var frontier: [State]
    private var current: State?
    /// Fewest hops with which each node was settled; a later (costlier) state needs fewer hops to matter.
    private var settledHops: [Coordinate: Int] = [:]
    private var expansions = 0

    init(start: Coordinate, goal: Coordinate, maxDepth: Int, maxExpansions: Int = 10_000) {
        self.goal = goal
        self.maxDepth = maxDepth
        self.maxExpansions = maxExpansions
        self.frontier = [State(node: start, hops: 0, cost: 0, path: [start])]
    }

    /// The next node whose links are needed, or nil when the search is over.
    mutating func nextToExpand() -> Coordinate? {
        while result == nil, expansions < maxExpansions, let index = frontier.indices.min(by: { frontier[$0].cost < frontier[$1].cost }) {
            let state = frontier.remove(at: index)
            if state.node == goal {
                result = PathResult(coordinates: state.path, totalWeight: state.cost)
                return nil
            }
            if let hops = settledHops[state.node], hops <= state.hops { continue }
            settledHops[state.node] = state.hops
            guard state.hops < maxDepth else { continue }
            current = state
            expansions += 1
            return state.node
        }
        return nil
    }

    mutating func expand(_ node: Coordinate, links: [Link]) {
        guard let state = current, state.node == node else { return }
        current = nil
        for link in links where link.from == node && !state.path.contains(link.to) {
            frontier.append(State(node: link.to, hops: state.hops + 1, cost: state.cost + link.weight, path: state.path + [link.to]))
        }
    }
}
