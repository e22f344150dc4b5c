import Foundation
import SomaCore
import Synchronization

/// Vectors partitioned by namespace, each partition searched exactly while small and through an
/// HNSW graph once it grows. New vectors land in an exact buffer that every search scans, so a
/// vector is findable the moment it is added; a background task merges the buffer into the graph,
/// keeping graph insertion (about 0.5 to 0.75 ms per vector) off the write path. Deletes and updates
/// take effect at once: an old vector's graph slot is marked deleted and a replacement takes a
/// fresh one (hnswlib's in-place update cost four times an insertion and leaves a moved vector
/// without links from its new neighbours). Once deleted slots pass half the live vectors, the merge
/// rebuilds the graph from the live ones: that bounds its size, and a graph half made of deleted
/// slots was seen to lose a few percent of its points to search (pruned links).
///
/// Each vector is held once: in the buffer until it is merged, then only in the graph (in half
/// precision where `graphPrecision` is `half`; buffered vectors and queries are rounded to it too,
/// so a point's score does not change when it is merged).
public final class NearestNeighbourIndex: Sendable {
    /// What the index keeps of a point besides its vector: enough to filter and to find it.
    public struct Entry: Sendable, Equatable {
        public var id: UUID
        public var label: Int
        public var type: MemoryType
        public var version: Int
        public var payload: JSONObject

        public init(id: UUID, label: Int, type: MemoryType, version: Int, payload: JSONObject) {
            self.id = id
            self.label = label
            self.type = type
            self.version = version
            self.payload = payload
        }
    }

    struct Partition {
        var entries: [UUID: Entry] = [:]
        var byLabel: [Int: UUID] = [:]
        /// Normalised vectors not in the graph yet (all of them while there is no graph).
        var pending: [UUID: [Float]] = [:]
        var claimed: Set<UUID> = []  // pending ids some thread is adding to the graph right now
        var nextLabel = 0
        var graph: HNSWGraph?
        /// Scored exactly by every search besides the graph's own search.
        var isolated = IsolatedPoints()
        /// A loaded or rebuilt graph's isolated points are found by one pass over it, in the background.
        var isolationDue = false
    }

    struct State {
        var partitions: [String: Partition] = [:]
        /// Vectors put into graphs (by merges and rebuilds) since start-up, and how many of them the
        /// last finished save held.
        var merged = 0
        var savedThrough = 0
        var lastSave: Date?
    }

    public let dimension: Int
    public let parameters: ANNParameters
    /// `parameters.graphPrecision` where this CPU supports it.
    public let graphPrecision: GraphPrecision
    private let state = Mutex(State())
    /// One save at a time: two would write the same temporary files.
    private let saving = Mutex(())
    private let mergeLoop = MergeLoop()

    public init(dimension: Int, parameters: ANNParameters = ANNParameters()) {
        self.dimension = dimension
        self.parameters = parameters
        graphPrecision = parameters.graphPrecision == .half && HNSWGraph.halfSupported ? .half : .single
        mergeLoop.attach { [weak self] in self?.mergeStep(background: true) ?? false }
    }

    // MARK: Writes

    /// Fresh labels for points about to be upserted (stored with the vectors, so a saved graph can
    /// be matched against them after a restart).
    public func labels(for points: [VectorPoint]) -> [Int] {
        labels(for: points.map(\.namespace))
    }

    /// New labels for points in these namespaces, one each.
    public func labels(for namespaces: [String]) -> [Int] {
        state.withLock { state in
            namespaces.map { namespace in
                defer { state.partitions[namespace, default: Partition()].nextLabel += 1 }
                return state.partitions[namespace, default: Partition()].nextLabel
            }
        }
    }

    /// Adds or replaces points; `labels[i]` labels `points[i]`.
    public func upsert(_ points: [VectorPoint], labels: [Int]) throws {
        for point in points where point.vector.count != dimension {
            throw BackendError.dimensionMismatch(expected: dimension, actual: point.vector.count)
        }
        let entries = zip(points, labels).map { point, label in
            (
                point.namespace, Entry(id: point.id, label: label, type: point.type, version: point.version, payload: point.payload),
                kept(point.vector)
            )
        }
        try state.withLock { state in
            for (namespace, entry, vector) in entries {
                // Mutate in place: copying a partition out and back would copy its dictionaries.
                try insert(entry, vector: vector, into: &state.partitions[namespace, default: Partition()])
            }
        }
        scheduleMerge()
        while pendingCount > parameters.maxBuffer, mergeStep(background: false) {}
    }

    private func insert(_ entry: Entry, vector: [Float], into partition: inout Partition) throws {
        Self.retire(entry.id, in: &partition)
        partition.entries[entry.id] = entry
        partition.byLabel[entry.label] = entry.id
        partition.pending[entry.id] = vector
        partition.nextLabel = max(partition.nextLabel, entry.label + 1)
        if partition.graph == nil, partition.entries.count > parameters.exactThreshold {
            partition.graph = try newGraph(capacity: partition.entries.count * 2)
        }
    }

    private func newGraph(capacity: Int) throws -> HNSWGraph {
        try HNSWGraph(
            dimension: dimension, precision: graphPrecision, capacity: capacity, m: parameters.m, efConstruction: parameters.efConstruction,
            efSearch: parameters.efSearch)
    }

    public func delete(ids: [UUID]) {
        state.withLock { state in
            for namespace in Array(state.partitions.keys) {
                for id in ids { Self.retire(id, in: &state.partitions[namespace]!) }
            }
        }
    }

    private static func retire(_ id: UUID, in partition: inout Partition) {
        guard let old = partition.entries.removeValue(forKey: id) else { return }
        partition.byLabel[old.label] = nil
        if partition.pending.removeValue(forKey: id) == nil {
            partition.graph?.markDeleted(old.label)
        }
    }

    // MARK: Search

    /// Cosine similarity to the vectors of `ids`, as kept (in half precision where the graph is).
    public func similarities(to vector: [Float], ids: [UUID], namespace: String) throws -> [UUID: Double] {
        guard vector.count == dimension else { throw BackendError.dimensionMismatch(expected: dimension, actual: vector.count) }
        let query = kept(vector)
        return storedVectors(ids: ids, namespace: namespace).mapValues { Self.cosine(query, $0) }
    }

    /// The vectors of `ids` as kept (normalised; read back from the graph once merged).
    public func storedVectors(ids: [UUID], namespace: String) -> [UUID: [Float]] {
        let (buffered, inGraph, graph) = state.withLock { state -> ([UUID: [Float]], [(UUID, Int)], HNSWGraph?) in
            guard let partition = state.partitions[namespace] else { return ([:], [], nil) }
            var buffered: [UUID: [Float]] = [:]
            var inGraph: [(UUID, Int)] = []
            for id in ids {
                if let vector = partition.pending[id] {
                    buffered[id] = vector
                } else if let entry = partition.entries[id] {
                    inGraph.append((id, entry.label))
                }
            }
            return (buffered, inGraph, partition.graph)
        }
        // Read outside the lock: a vector merged or replaced meanwhile is looked up by its label,
        // which no other vector ever takes.
        var found = buffered
        for (id, label) in inGraph { if let vector = graph?.vector(label: label) { found[id] = vector } }
        return found
    }

    public func search(_ query: VectorQuery) throws -> [VectorHit] {
        guard query.vector.count == dimension else { throw BackendError.dimensionMismatch(expected: dimension, actual: query.vector.count) }
        guard query.limit > 0 else { return [] }
        let vector = kept(query.vector)
        let (graph, size, bufferHits, isolated) = state.withLock { state -> (HNSWGraph?, Int, [VectorHit], [Int]) in
            guard let partition = state.partitions[query.namespace] else { return (nil, 0, [], []) }
            // Small partitions, and everything the graph does not hold yet, are scanned exactly.
            // Only the best `limit` are kept: the final answer is the best `limit` of buffer and graph.
            let unfiltered = query.type == nil && query.filters.isEmpty
            var best = BestHits(limit: query.limit)
            for (id, stored) in partition.pending {
                if !unfiltered {
                    guard let entry = partition.entries[id], query.admits(namespace: query.namespace, type: entry.type, payload: entry.payload)
                    else { continue }
                }
                let score = Self.cosine(vector, stored)
                // The payload only for a hit that is kept: the buffer holds every vector of a small namespace.
                if best.admits(score: score) { best.offer(VectorHit(id: id, score: score, payload: partition.entries[id]?.payload)) }
            }
            return (partition.graph, partition.entries.count, best.hits, partition.isolated.labels)
        }
        var hits = bufferHits
        if let graph {
            let filtered = query.type != nil || !query.filters.isEmpty
            // The points a search from elsewhere can miss (`IsolatedPoints`), scored exactly, best
            // first: the best `limit` of them that pass the filters join the graph's hits.
            let isolatedScores = zip(isolated, graph.similarities(of: vector, to: isolated)).compactMap { label, score in score.map { (label, $0) } }
                .sorted { $0.1 > $1.1 }
            var k = min(size, query.limit * (filtered ? 8 : 2))
            var graphHits: [VectorHit] = []
            while true {
                let found = graph.search(vector, k: k)
                graphHits = state.withLock { state in
                    guard let partition = state.partitions[query.namespace] else { return [] }
                    func hit(_ label: Int, _ similarity: Double) -> VectorHit? {
                        guard let id = partition.byLabel[label], partition.pending[id] == nil, let entry = partition.entries[id],
                            query.admits(namespace: query.namespace, type: entry.type, payload: entry.payload)
                        else { return nil }
                        return VectorHit(id: id, score: similarity, payload: entry.payload)
                    }
                    var hits = found.compactMap(hit)
                    var isolatedKept = 0
                    for (label, similarity) in isolatedScores where isolatedKept < query.limit && !found.contains(where: { $0.label == label }) {
                        guard let isolatedHit = hit(label, similarity) else { continue }
                        hits.append(isolatedHit)
                        isolatedKept += 1
                    }
                    return hits
                }
                // Filters can discard most candidates: widen the search until enough pass or all were seen.
                if graphHits.count >= query.limit || k >= size || !filtered { break }
                k = min(size, k * 4)
            }
            if filtered, graphHits.count < query.limit {
                // A filter so selective that even the widest graph search found too few: an
                // approximate search can miss isolated matches, so scan the graph's entries exactly.
                let matching = state.withLock { state in
                    guard let partition = state.partitions[query.namespace] else { return [Entry]() }
                    return partition.entries.values.filter { entry in
                        partition.pending[entry.id] == nil && query.admits(namespace: query.namespace, type: entry.type, payload: entry.payload)
                    }
                }
                graphHits = matching.compactMap { entry in
                    graph.vector(label: entry.label).map { VectorHit(id: entry.id, score: Self.cosine(vector, $0), payload: entry.payload) }
                }
            }
            // The buffer and the graph are read under two locks; a vector merged in between can
            // show up in both.
            let buffered = Set(bufferHits.map(\.id))
            hits += graphHits.filter { !buffered.contains($0.id) }
        }
        return Array(hits.sorted(by: VectorHit.bestFirst).prefix(query.limit))
    }

    public func count(namespace: String?) -> Int {
        state.withLock { state in
            if let namespace { return state.partitions[namespace]?.entries.count ?? 0 }
            return state.partitions.values.reduce(0) { $0 + $1.entries.count }
        }
    }

    /// Bookkeeping faults in a namespace (for tests): entries neither buffered nor in the graph
    /// under their current label, buffered vectors no entry holds, and live graph labels no entry
    /// holds. All must be 0.
    func unaccounted(namespace: String) -> (entries: Int, labels: Int) {
        state.withLock { state in
            guard let partition = state.partitions[namespace] else { return (0, 0) }
            let live = Set(partition.graph?.liveLabels() ?? [])
            let entries = partition.entries.values.count { entry in partition.pending[entry.id] == nil && !live.contains(entry.label) }
            let strays = partition.pending.keys.count { partition.entries[$0] == nil }
            return (entries + strays, live.count { partition.byLabel[$0] == nil })
        }
    }

    /// Slots a namespace's graph holds, deleted ones included (0 while it is searched exactly).
    func graphSlots(namespace: String) -> Int {
        state.withLock { $0.partitions[namespace]?.graph?.count ?? 0 }
    }

    /// Vectors waiting in exact buffers for the background merge.
    public var pendingCount: Int {
        state.withLock { $0.partitions.values.reduce(0) { $0 + ($1.graph == nil ? 0 : $1.pending.count) } }
    }

    // MARK: Background merge

    /// False while a merge runs that has moved nothing for `mergeStallLimit`: the buffer every
    /// search scans would only grow. Idle (nothing waiting, or a merge about to start) is healthy.
    public var mergeIsProgressing: Bool {
        mergeLoop.isProgressing(limit: parameters.mergeStallLimit)
    }

    /// Ends background merging (at shutdown): a batch under way finishes, vectors still waiting stay
    /// in the buffer (searched exactly; the next start merges them). Returns once the thread has ended.
    public func stopMerging() async {
        await mergeLoop.stop()
    }

    private func scheduleMerge() {
        let waiting = state.withLock { state in state.partitions.values.contains { $0.graph != nil && (!$0.pending.isEmpty || $0.isolationDue) } }
        if waiting { mergeLoop.request() }
    }

    private enum MergeWork {
        case add(namespace: String, graph: HNSWGraph, batch: [(UUID, Int, [Float])])
        case compact(namespace: String, graph: HNSWGraph, live: [Int])
        case findIsolated(namespace: String, graph: HNSWGraph)
    }

    /// Adds one batch of buffered vectors to a graph, or (in the background, once nothing waits)
    /// rebuilds a graph whose deleted slots pass half its live vectors; false when there was
    /// nothing to do. Writers call it too while the buffer is over `maxBuffer`, so a bulk load that
    /// outruns the background merge slows to its pace instead of growing a buffer every search
    /// must scan.
    @discardableResult
    private func mergeStep(background: Bool) -> Bool {
        let work = state.withLock { state -> MergeWork? in
            for (namespace, partition) in state.partitions where partition.graph != nil && partition.pending.count > partition.claimed.count {
                let batch = partition.pending.lazy.filter { !partition.claimed.contains($0.key) }.prefix(parameters.mergeBatch)
                    .compactMap { id, vector in partition.entries[id].map { (id, $0.label, vector) } }
                state.partitions[namespace]!.claimed.formUnion(batch.map(\.0))
                return .add(namespace: namespace, graph: partition.graph!, batch: Array(batch))
            }
            if background, let (namespace, partition) = state.partitions.first(where: { $0.value.isolationDue && $0.value.graph != nil }) {
                state.partitions[namespace]!.isolationDue = false
                return .findIsolated(namespace: namespace, graph: partition.graph!)
            }
            if background, let (namespace, partition) = state.partitions.first(where: { needsCompaction($0.value) }) {
                let live = partition.entries.values.compactMap { partition.pending[$0.id] == nil ? $0.label : nil }
                return .compact(namespace: namespace, graph: partition.graph!, live: live)
            }
            return nil
        }
        switch work {
        case nil:
            return false
        case .add(let namespace, let graph, let batch):
            add(batch, to: graph, of: namespace)
            return true
        case .compact(let namespace, let graph, let live):
            return compact(namespace, replacing: graph, live: live)
        case .findIsolated(let namespace, let graph):
            // A pass over every point's links.
            let capacity = IsolatedPoints.capacity(graphSize: graph.count)
            var isolated = IsolatedPoints(graph.linkSimilarities(), capacity: capacity)
            state.withLock { state in
                guard state.partitions[namespace]?.graph === graph else { return }
                // Points a writer's merge offered meanwhile are kept.
                isolated.offer(state.partitions[namespace]!.isolated, capacity: capacity)
                state.partitions[namespace]!.isolated = isolated
            }
            return true
        }
    }

    private func add(_ batch: [(UUID, Int, [Float])], to graph: HNSWGraph, of namespace: String) {
        var added: Set<UUID> = []
        var addedLabels: [Int] = []
        for (id, label, vector) in batch where (try? graph.add(vector, label: label)) != nil {
            added.insert(id)
            addedLabels.append(label)
        }
        let likeness = graph.linkSimilarities(only: addedLabels)
        let capacity = IsolatedPoints.capacity(graphSize: graph.count)
        state.withLock { state in
            state.merged += added.count
            if state.partitions[namespace]?.graph === graph {
                for (label, similarity) in likeness { state.partitions[namespace]!.isolated.offer(label, similarity: similarity, capacity: capacity) }
            }
            for (id, label, _) in batch {
                state.partitions[namespace]?.claimed.remove(id)
                guard added.contains(id) else {
                    state.partitions[namespace]?.pending[id] = nil  // the graph refused it; exact scans would hold it forever
                    continue
                }
                let partition = state.partitions[namespace]
                // A graph rebuilt meanwhile was reconciled with the entries; this copy went to the old one.
                guard partition?.graph === graph else { continue }
                // Labels are never given twice, so the same label means the same vector.
                if partition?.entries[id]?.label == label, partition?.pending[id] != nil {
                    state.partitions[namespace]?.pending[id] = nil
                } else {
                    graph.markDeleted(label)  // replaced or deleted while it was being added
                }
            }
        }
    }

    private func needsCompaction(_ partition: Partition) -> Bool {
        guard let graph = partition.graph else { return false }
        let deleted = graph.count - partition.entries.count
        return deleted > max(partition.entries.count / 2, parameters.compactAfterDeleted)
    }

    /// Builds a new graph from the old one's live vectors (searches and writes go on against the
    /// old one), then swaps it in and reconciles it with what changed meanwhile.
    private func compact(_ namespace: String, replacing old: HNSWGraph, live: [Int]) -> Bool {
        guard let graph = try? newGraph(capacity: max(live.count, parameters.exactThreshold) * 2) else { return false }
        for (position, label) in live.enumerated() {
            // Gone when it was deleted or replaced since the snapshot: the reconcile settles it.
            if let vector = old.vector(label: label) { try? graph.add(vector, label: label) }
            if position % 256 == 255 { mergeLoop.beat() }
        }
        state.withLock { state in
            guard state.partitions[namespace]?.graph === old else { return }
            state.partitions[namespace]!.graph = graph
            state.partitions[namespace]!.isolated = IsolatedPoints()
            state.partitions[namespace]!.isolationDue = true
            state.merged += live.count
            // Merged into the old graph after the snapshot: back to the buffer, for the new one.
            for (id, label) in Self.reconcile(graph, with: &state.partitions[namespace]!) {
                if let vector = old.vector(label: label) { state.partitions[namespace]!.pending[id] = vector }
            }
        }
        return true
    }

    /// Makes a graph agree with the partition's entries: labels no entry holds are deleted, and
    /// the entries that are neither buffered nor in the graph are returned (with their labels) for
    /// the caller to buffer. No vector is compared: a label is never given twice (a partition
    /// numbers on above every label its saved graph ever held), so a label the graph holds holds
    /// the vector its entry was stored with.
    private static func reconcile(_ graph: HNSWGraph, with partition: inout Partition) -> [(id: UUID, label: Int)] {
        // Labels are numbered densely from 0: a flag per label is cheaper than a set of a million.
        var live = [Bool](repeating: false, count: max(graph.highestLabel + 1, 0))
        for label in graph.liveLabels() {
            live[label] = true
            if partition.byLabel[label] == nil { graph.markDeleted(label) }
        }
        partition.nextLabel = max(partition.nextLabel, live.count)
        func isLive(_ label: Int) -> Bool { label < live.count && live[label] }
        var missing: [(id: UUID, label: Int)] = []
        for (id, entry) in partition.entries where !isLive(entry.label) && partition.pending[id] == nil {
            missing.append((id, entry.label))
        }
        // Buffered vectors the graph already holds (merged before a save) leave the buffer.
        for (id, _) in partition.pending where partition.entries[id].map({ isLive($0.label) }) == true {
            partition.pending[id] = nil
        }
        return missing
    }

    /// Waits until every buffered vector is in its graph and the background merge (with any
    /// rebuild) has finished, or until `limit` has passed.
    public func waitForMerge(upTo limit: Duration = .seconds(3600)) async {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while pendingCount > 0 || mergeLoop.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Persistence

    /// A namespace's entries as the index holds them (tests compare two starts').
    func entries(in namespace: String) -> [UUID: Entry] {
        state.withLock { $0.partitions[namespace]?.entries ?? [:] }
    }

    /// Vectors merged into graphs after the last finished `save` began: 0 once a save holds every merge.
    public var mergedSinceSave: Int { state.withLock { $0.merged - $0.savedThrough } }

    /// When `save` last finished in this process.
    public var lastSave: Date? { state.withLock(\.lastSave) }

    /// Saves every graph into `directory`, one file per namespace. Searches go on meanwhile; merges
    /// and deletes wait for the graph being written.
    public func save(to directory: String) throws {
        try saving.withLock { _ in
            // Counted from here: a merge that lands during the save is saved again next time, and a
            // failed save leaves everything since the last good one unsaved.
            let (graphs, through) = state.withLock { state in
                (state.partitions.compactMap { namespace, partition in partition.graph.map { (namespace, $0) } }, state.merged)
            }
            try GraphFiles(directory: directory, precision: graphPrecision).replace(with: graphs)
            state.withLock { state in
                state.savedThrough = through
                state.lastSave = Date()
            }
        }
    }

    /// The graphs saved in `directory`, read on a thread of their own: a million vectors' graph
    /// takes seconds to read, so a start reads it while it reads the entries `load` matches it with.
    public func savedGraphs(in directory: String) async -> SavedGraphs {
        let (files, dimension, parameters) = (GraphFiles(directory: directory, precision: graphPrecision), dimension, parameters)
        return await withCheckedContinuation { done in
            NamedThread.start("soma-graph-load") { done.resume(returning: SavedGraphs(files: files, dimension: dimension, parameters: parameters)) }
        }
    }

    /// Rebuilds partitions from stored entries, reusing a saved graph where there is one: graph
    /// labels no entry has are deleted, and only the entries the graph lacks have their vectors
    /// read (by `vectors`, with the stored ids; unnormalised is fine) into the buffer. An entry
    /// whose vector `vectors` does not return is left out.
    public func load(
        _ entries: [(namespace: String, entry: Entry)], graphs saved: SavedGraphs, vectors: ([UUID]) throws -> [UUID: [Float]]
    ) rethrows {
        // Sized once: growing a million-entry dictionary step by step rehashed it about twenty times.
        var sizes: [String: Int] = [:]
        for (namespace, _) in entries { sizes[namespace, default: 0] += 1 }
        var partitions = sizes.mapValues { size in
            var partition = Partition()
            partition.entries.reserveCapacity(size)
            partition.byLabel.reserveCapacity(size)
            return partition
        }
        for (namespace, entry) in entries {
            Self.place(entry, in: &partitions[namespace]!)
        }
        var converted = 0
        for namespace in Array(partitions.keys) {
            var partition = partitions.removeValue(forKey: namespace)!
            var missing: [(id: UUID, label: Int)]
            // A namespace no larger than the exact threshold (raised since its graph was saved) is
            // searched exactly, its saved graph left unused.
            if partition.entries.count > parameters.exactThreshold, let (graph, wasConverted) = saved.graph(of: namespace) {
                missing = Self.reconcile(graph, with: &partition)
                partition.graph = graph
                partition.isolationDue = true
                if wasConverted { converted += graph.count }
            } else {
                missing = partition.entries.values.map { ($0.id, $0.label) }
                if partition.entries.count > parameters.exactThreshold { partition.graph = try? newGraph(capacity: partition.entries.count * 2) }
            }
            let found = try vectors(missing.map(\.id))
            for (id, _) in missing {
                if let vector = found[id] {
                    partition.pending[id] = kept(vector)
                } else if let entry = partition.entries.removeValue(forKey: id) {
                    partition.byLabel[entry.label] = nil
                }
            }
            partitions[namespace] = partition
        }
        state.withLock { state in
            state.partitions = partitions
            state.merged += converted  // unsaved in this precision: the next save writes it
        }
        scheduleMerge()
    }

    private static func place(_ entry: Entry, in partition: inout Partition) {
        partition.entries[entry.id] = entry
        partition.byLabel[entry.label] = entry.id
        partition.nextLabel = max(partition.nextLabel, entry.label + 1)
    }

    // MARK: Math

    /// A vector (a point's or a query's) as this index scores it: normalised, and rounded to half
    /// precision where the graph keeps that, so a point scores the same in the buffer as once merged
    /// (the graph rounds queries too).
    func kept(_ vector: [Float]) -> [Float] {
        let normalised = Self.normalised(vector)
        return graphPrecision == .half ? HNSWGraph.roundedToHalf(normalised) : normalised
    }

    public static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return vector }
        return vector.map { $0 / norm }
    }

    /// The cosine of two normalised vectors: their dot product, kept inside [-1, 1], which
    /// rounding (half precision's most) can step out of.
    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        HNSWGraph.similarity(dot(a, b))
    }

    /// Dot product in 8-wide SIMD lanes (the compiler may not reorder a scalar float sum itself),
    /// loaded straight from memory: building each lane from an array slice cost most of the time.
    public static func dot(_ a: [Float], _ b: [Float]) -> Double {
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                let count = min(x.count, y.count), wide = count & ~7
                let xBytes = UnsafeRawBufferPointer(x), yBytes = UnsafeRawBufferPointer(y)
                let stride = MemoryLayout<SIMD8<Float>>.size
                var lanes = SIMD8<Float>()
                var index = 0
                while index < wide {
                    let offset = index * MemoryLayout<Float>.stride
                    lanes +=
                        xBytes.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        * yBytes.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    index += stride / MemoryLayout<Float>.stride
                }
                var sum = lanes.sum()
                while index < count {
                    sum += x[index] * y[index]
                    index += 1
                }
                return Double(sum)
            }
        }
    }
}
