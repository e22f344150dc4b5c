import Hummingbird
import SomaCore

/// What route handlers share: the engine and the request limits.
struct RouteEnvironment: Sendable {
    let engine: MemoryEngine
    let body: JSONBody

    var maxDimensions: Int { engine.options.maxCoordinateDimensions }

    func coordinate(_ input: CoordinateInput) throws -> Coordinate {
        try input.resolve(maxDimensions: maxDimensions)
    }

    /// The `{coord}` path segment.
    func pathCoordinate(_ context: SomaRequestContext) throws -> Coordinate {
        let raw = context.parameters.get("coord") ?? ""
        return try CoordinateInput(text: raw.removingPercentEncoding ?? raw).resolve(maxDimensions: maxDimensions)
    }

    func query(_ request: Request) -> QueryParameters { QueryParameters(request) }
}
