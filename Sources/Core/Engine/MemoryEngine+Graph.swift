import Foundation

/// The link graph: links, neighbours and the cheapest path.
extension MemoryEngine {
    public func link(namespace: String, _ link: Link) async throws {
        guard link.weight.isFinite, link.weight >= 0 else { throw EngineError.invalid("weight must be a finite number >= 0") }
        guard !link.type.isEmpty, link.type.count <= 64 else { throw EngineError.invalid("link type must be 1 to 64 characters") }
        for end in [link.from, link.to] where try await get(namespace: namespace, coordinate: end) == nil {
            throw EngineError.notFound("no memory at \(end) in namespace \(namespace)")
        }
        try await backend(.storage) { try await storage.addLink(namespace: namespace, link: link) }
    }

    /// Outgoing (or incoming) links whose other end is still alive.
    public func neighbors(
        namespace: String, of coordinate: Coordinate, direction: LinkDirection = .outgoing, type: String?, limit: Int
    ) async throws -> [Link] {
        let limit = try checkedLimit(limit, max: options.maxListLimit)
        guard try await get(namespace: namespace, coordinate: coordinate) != nil else {
            throw EngineError.notFound("no memory at \(coordinate) in namespace \(namespace)")
        }
        let links = try await backend(.storage) {
            switch direction {
            case .outgoing: try await storage.links(namespace: namespace, from: coordinate, type: type, limit: limit)
            case .incoming: try await storage.links(namespace: namespace, to: coordinate, type: type, limit: limit)
            }
        }
        let otherEnd = { (link: Link) in MemoryID.make(namespace: namespace, coordinate: direction == .outgoing ? link.to : link.from) }
        let alive = try await load(ids: links.map(otherEnd), namespace: namespace)
        return links.filter { alive[otherEnd($0)] != nil }
    }

    /// Cheapest path by summed link weight using at most `maxDepth` links, or nil when there is none.
    public func shortestPath(namespace: String, from start: Coordinate, to goal: Coordinate, type: String?, maxDepth: Int? = nil) async throws
        -> PathResult?
    {
        let depth = maxDepth ?? options.maxPathDepth
        guard depth >= 1, depth <= options.maxPathDepth else {
            throw EngineError.invalid("max_depth must be between 1 and \(options.maxPathDepth)")
        }
        for end in [start, goal] where try await get(namespace: namespace, coordinate: end) == nil {
            throw EngineError.notFound("no memory at \(end) in namespace \(namespace)")
        }
        var search = PathSearch(start: start, goal: goal, maxDepth: depth)
        while let node = search.nextToExpand() {
            let links = try await backend(.storage) {
                try await storage.links(namespace: namespace, from: node, type: type, limit: options.maxListLimit)
            }
            search.expand(node, links: links)
        }
        return search.result
    }
}
