import Foundation

/// Export and import of JSON Lines (`ExportFormat`: this build's backup, its version 1 export, the original's).
extension MemoryEngine {
    /// The namespace as a backup: the header, every memory, then every link, one line each.
    /// `vectors`: each memory's line carries its vector as the index keeps it.
    public func exportLines(namespace: String, vectors withVectors: Bool = false, pageSize: Int = 500) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    continuation.yield(
                        try ExportFormat.encode(ExportFormat.Header(version: ExportFormat.version, namespace: namespace, exportedAt: now())))
                    var links: [Link] = []
                    var cursor: String?
                    repeat {
                        let page = try await self.list(namespace: namespace, type: nil, cursor: cursor, limit: pageSize)
                        let stored =
                            withVectors
                            ? try await backend(.vector) { try await vectors.storedVectors(ids: page.memories.map(\.id), namespace: namespace) } : [:]
                        for memory in page.memories {
                            continuation.yield(try ExportFormat.encode(memory, vector: stored[memory.id]))
                            links += try await backend(.storage) {
                                try await storage.links(namespace: namespace, from: memory.coordinate, type: nil, limit: Self.linksPerMemoryExported)
                            }
                        }
                        cursor = page.nextCursor
                    } while cursor != nil && !Task.isCancelled
                    // After every memory, so an import finds both ends of each link.
                    for link in links { continuation.yield(try ExportFormat.encode(link)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Far more than any memory holds; a backup must not cut a memory's links short.
    static let linksPerMemoryExported = 1_000_000

    /// What an import did: memories written, links written, and lines that matched what the
    /// namespace already held exactly (an import of the same file again changes nothing).
    public struct ImportOutcome: Sendable, Equatable {
        public var memories = 0
        public var links = 0
        public var unchanged = 0
        /// Memories written with the vector their line carried (same model), not embedded again.
        public var vectorsReused = 0

        public init(memories: Int = 0, links: Int = 0, unchanged: Int = 0, vectorsReused: Int = 0) {
            self.memories = memories
            self.links = links
            self.unchanged = unchanged
            self.vectorsReused = vectorsReused
        }
    }

    /// Stores the lines' memories in one transaction, then their links; any bad line rejects the
    /// whole import before anything is written. A file with a header restores each memory as it
    /// was; a memory or link the namespace already holds exactly is left alone.
    public func importLines(_ text: String, namespace: String) async throws -> ImportOutcome {
        let decoder = SomaJSON.decoder()
        var restoring = false
        var drafts: [MemoryDraft] = []
        var known: [UUID: [Float]] = [:]
        var links: [Link] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                switch try ExportFormat.read(trimmed, decoder: decoder) {
                case .header(let header):
                    guard header.version <= ExportFormat.version else {
                        throw EngineError.invalid("a backup of format version \(header.version); this build reads up to \(ExportFormat.version)")
                    }
                    restoring = true
                case .original(let original):
                    drafts.append(try OriginalMemory.draft(original, namespace: namespace, maxDimensions: options.maxCoordinateDimensions))
                case .memory(let record):
                    let draft = try record.draft(namespace: namespace, maxDimensions: options.maxCoordinateDimensions, restoring: restoring)
                    // A vector of this embedder's model is as good as embedding again; another model's is not.
                    if let vector = record.vector, record.embeddingModel == embedder.modelID, vector.count == embedder.dimension,
                        vector.allSatisfy(\.isFinite)
                    {
                        known[draft.id] = vector
                    }
                    drafts.append(draft)
                case .link(let link):
                    links.append(link)
                }
            } catch let error as OriginalMemory.Refused {
                throw EngineError.invalid("line \(number + 1): \(error.description)")
            } catch let error as EngineError {
                throw EngineError.invalid("line \(number + 1): \(error.description)")
            } catch {
                let problem = (error as? DecodingError).flatMap(DecodingProblem.describe) ?? "malformed JSON"
                throw EngineError.invalid("line \(number + 1): not a memory, link or header line (\(problem))")
            }
        }
        var outcome = ImportOutcome()
        let fresh = try await changed(drafts, namespace: namespace)
        outcome.unchanged = drafts.count - fresh.count
        let freshIDs = Set(fresh.map(\.id))
        let reusable = known.filter { freshIDs.contains($0.key) }
        let stored = try await store(fresh, known: reusable)
        outcome.memories = stored.count
        // Indexed here only when indexing is synchronous; a consumer embeds what it indexes.
        outcome.vectorsReused = options.indexSynchronously ? reusable.count : 0
        // A restored record may be older than what the cache holds for its key: drop those entries.
        if fresh.contains(where: { $0.restored != nil }) { try? await cache.delete(stored.map { cacheKey($0.id) }) }
        for link in links {
            let held = try await backend(.storage) {
                try await storage.links(namespace: namespace, from: link.from, type: link.type, limit: options.maxListLimit)
            }
            if held.contains(where: { $0.to == link.to && $0.weight == link.weight && Self.sameMoment($0.createdAt, link.createdAt) }) {
                outcome.unchanged += 1
                continue
            }
            try await self.link(namespace: namespace, link)
            outcome.links += 1
        }
        return outcome
    }

    /// The drafts whose memory the namespace does not already hold exactly (content, and the stamps a restore carries).
    func changed(_ drafts: [MemoryDraft], namespace: String) async throws -> [MemoryDraft] {
        guard !drafts.isEmpty else { return [] }
        let held = try await backend(.storage) { try await storage.get(namespace: namespace, ids: drafts.map(\.id)) }
        let byID = Dictionary(held.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return drafts.filter { draft in
            guard let memory = byID[draft.id], memory.holds(draft), Self.sameMoment(memory.expiresAt, draft.expiresAt) else { return true }
            guard let restored = draft.restored else { return false }
            return !Self.sameMoment(memory.createdAt, restored.createdAt) || !Self.sameMoment(memory.updatedAt, restored.updatedAt)
                || memory.version != (restored.version ?? memory.version)
        }
    }

    /// Equal to the millisecond, the precision the export format writes times in.
    static func sameMoment(_ a: Date, _ b: Date) -> Bool { abs(a.timeIntervalSince(b)) < 0.001 }

    static func sameMoment(_ a: Date?, _ b: Date?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return sameMoment(a, b)
    }

    /// A line of the original service's export: the memory itself, its fields beside its
    /// `coordinate` and `memory_type`, where this build's export nests them under `payload`.
    static func originalExportLine(_ value: JSONValue) -> JSONValue? {
        guard value["coordinate"] != nil else { return nil }
        if case .object? = value["payload"] { return nil }
        return value
    }
}
