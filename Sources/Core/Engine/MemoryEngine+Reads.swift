import Foundation

/// Reads by coordinate, page, range and namespace.
extension MemoryEngine {
    public func get(namespace: String, coordinate: Coordinate) async throws -> Memory? {
        let id = MemoryID.make(namespace: namespace, coordinate: coordinate)
        if let cached = await cached(id), cached.namespace == namespace {
            return cached.isExpired(at: now()) ? nil : cached
        }
        guard let memory = try await backend(.storage, { try await storage.get(namespace: namespace, coordinate: coordinate) }) else {
            return nil
        }
        await remember([memory])
        return memory.isExpired(at: now()) ? nil : memory
    }

    public func list(namespace: String, type: MemoryType?, cursor: String?, limit: Int) async throws -> MemoryPage {
        let limit = try checkedLimit(limit, max: options.maxListLimit)
        var page = try await backend(.storage) { try await storage.list(namespace: namespace, type: type, after: cursor, limit: limit) }
        let moment = now()
        page.memories.removeAll { $0.isExpired(at: moment) }
        return page
    }

    /// The most recently written memories, newest first; expired ones left out.
    public func recent(namespace: String, limit: Int) async throws -> [Memory] {
        let limit = try checkedLimit(limit, max: options.maxListLimit)
        let memories = try await backend(.storage) { try await storage.recent(namespace: namespace, limit: limit) }
        let moment = now()
        return memories.filter { !$0.isExpired(at: moment) }
    }

    public func range(namespace: String, min lower: Coordinate, max upper: Coordinate, type: MemoryType?, limit: Int = 1000) async throws -> [Memory]
    {
        guard lower.dimensions == upper.dimensions else {
            throw EngineError.invalid(CoordinateError.dimensionMismatch(lower.dimensions, upper.dimensions).description)
        }
        for index in lower.values.indices where lower.values[index] > upper.values[index] {
            throw EngineError.invalid("min is greater than max in dimension \(index + 1)")
        }
        let limit = try checkedLimit(limit, max: options.maxListLimit)
        let found = try await backend(.storage) { try await storage.range(namespace: namespace, min: lower, max: upper, type: type, limit: limit) }
        let moment = now()
        return found.filter { !$0.isExpired(at: moment) }
    }

    public func stats(namespace: String) async throws -> MemoryCounts {
        try await backend(.storage) { try await storage.counts(namespace: namespace) }
    }

    /// Every live memory of a namespace, page by page.
    public func export(namespace: String, pageSize: Int = 500) -> AsyncThrowingStream<Memory, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var cursor: String?
                    repeat {
                        let page = try await self.list(namespace: namespace, type: nil, cursor: cursor, limit: pageSize)
                        for memory in page.memories { continuation.yield(memory) }
                        cursor = page.nextCursor
                    } while cursor != nil && !Task.isCancelled
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
