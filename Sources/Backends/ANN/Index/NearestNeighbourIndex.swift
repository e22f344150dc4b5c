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
public final class NearestNeighbourIndex: Sendable {
    public struct Entry: Sendable {
        public var id: UUID
        public var label: Int
        public var vector: [Float]
        public var type: MemoryType
        public var version: Int
        public var payload: JSONObject

        public init(id: UUID, label: Int, vector: [Float], type: MemoryType, version: Int, payload: JSONObject) {
            self.id = id
            self.label = label
            self.vector = vector
            self.type = type
            self.version = version
            self.payload = payload
        }
    }

    struct Partition {
        var entries: [UUID: Entry] = [:]
        var byLabel: [Int: UUID] = [:]
        var pending: [UUID: Int] = [:]  // id -> label not yet in the graph
        var claimed: Set<UUID> = []  // pending ids some thread is adding to the graph right now
        var nextLabel = 0
        var graph: HNSWGraph?
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
    private let state = Mutex(State())
    /// One save at a time: two would write the same temporary files.
    private let saving = Mutex(())
    private let mergeLoop = MergeLoop()

    public init(dimension: Int, parameters: ANNParameters = ANNParameters()) {
        self.dimension = dimension
        self.parameters = parameters
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
                point.namespace,
                Entry(
                    id: point.id, label: label, vector: Self.normalised(point.vector), type: point.type, version: point.version,
                    payload: point.payload)
            )
        }
        try state.withLock { state in
            for (namespace, entry) in entries {
                // Mutate in place: copying a partition out and back would copy its dictionaries.
                try Self.insert(entry, into: &state.partitions[namespace, default: Partition()], dimension: dimension, parameters: parameters)
            }
        }
        scheduleMerge()
        while pendingCount > parameters.maxBuffer, mergeStep(background: false) {}
    }

    private static func insert(_ entry: Entry, into partition: inout Partition, dimension: Int, parameters: ANNParameters) throws {
        retire(entry.id, in: &partition)
        partition.entries[entry.id] = entry
        partition.byLabel[entry.label] = entry.id
        partition.pending[entry.id] = entry.label
        partition.nextLabel = max(partition.nextLabel, entry.label + 1)
        if partition.graph == nil, partition.entries.count > parameters.exactThreshold {
            partition.graph = try HNSWGraph(
                dimension: dimension, capacity: partition.entries.count * 2, m: parameters.m,
                efConstruction: parameters.efConstruction, efSearch: parameters.efSearch)
        }
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

    public func similarities(to vector: [Float], ids: [UUID], namespace: String) throws -> [UUID: Double] {
        guard vector.count == dimension else { throw BackendError.dimensionMismatch(expected: dimension, actual: vector.count) }
        let normalised = Self.normalised(vector)
        return state.withLock { state in
            guard let partition = state.partitions[namespace] else { return [:] }
            var found: [UUID: Double] = [:]
            for id in ids { if let entry = partition.entries[id] { found[id] = Double(Self.dot(normalised, entry.vector)) } }
            return found
        }
    }

    /// The vectors of `ids` as kept (normalised).
    public func storedVectors(ids: [UUID], namespace: String) -> [UUID: [Float]] {
        state.withLock { state in
            guard let partition = state.partitions[namespace] else { return [:] }
            var found: [UUID: [Float]] = [:]
            for id in ids { if let entry = partition.entries[id] { found[id] = entry.vector } }
            return found
        }
    }

    public func search(_ query: VectorQuery) throws -> [VectorHit] {
        guard query.vector.count == dimension else { throw BackendError.dimensionMismatch(expected: dimension, actual: query.vector.count) }
        guard query.limit > 0 else { return [] }
        let vector = Self.normalised(query.vector)
        let (graph, size, bufferHits) = state.withLock { state -> (HNSWGraph?, Int, [VectorHit]) in
            guard let partition = state.partitions[query.namespace] else { return (nil, 0, []) }
            // Small partitions, and everything the graph does not hold yet, are scanned exactly.
            // Only the best `limit` are kept: the final answer is the best `limit` of buffer and graph.
            let unfiltered = query.type == nil && query.filters.isEmpty
            var best = BestHits(limit: query.limit)
            func offer(_ entry: Entry) {
                guard unfiltered || query.admits(namespace: query.namespace, type: entry.type, payload: entry.payload) else { return }
                let score = Self.dot(vector, entry.vector)
                if best.admits(score: score) { best.offer(VectorHit(id: entry.id, score: score)) }
            }
            if partition.graph == nil {
                for entry in partition.entries.values { offer(entry) }
            } else {
                for id in partition.pending.keys { if let entry = partition.entries[id] { offer(entry) } }
            }
            return (partition.graph, partition.entries.count, best.hits)
        }
        var hits = bufferHits
        if let graph {
            let filtered = query.type != nil || !query.filters.isEmpty
            var k = min(size, query.limit * (filtered ? 8 : 2))
            var graphHits: [VectorHit] = []
            while true {
                let found = graph.search(vector, k: k)
                graphHits = state.withLock { state in
                    guard let partition = state.partitions[query.namespace] else { return [] }
                    return found.compactMap { label, similarity in
                        guard let id = partition.byLabel[label], partition.pending[id] == nil, let entry = partition.entries[id],
                            query.admits(namespace: query.namespace, type: entry.type, payload: entry.payload)
                        else { return nil }
                        return VectorHit(id: id, score: similarity)
                    }
                }
                // Filters can discard most candidates: widen the search until enough pass or all were seen.
                if graphHits.count >= query.limit || k >= size || !filtered { break }
                k = min(size, k * 4)
            }
            if filtered, graphHits.count < query.limit {
                // A filter so selective that even the widest graph search found too few: an
                // approximate search can miss isolated matches, so scan the graph's entries exactly.
                graphHits = state.withLock { state in
                    guard let partition = state.partitions[query.namespace] else { return [] }
                    return partition.entries.values.compactMap { entry in
                        guard partition.pending[entry.id] == nil, query.admits(namespace: query.namespace, type: entry.type, payload: entry.payload)
                        else { return nil }
                        return VectorHit(id: entry.id, score: Self.dot(vector, entry.vector))
                    }
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
    /// with their current vector, and live graph labels no entry holds. Both must be 0.
    func unaccounted(namespace: String) -> (entries: Int, labels: Int) {
        state.withLock { state in
            guard let partition = state.partitions[namespace], let graph = partition.graph else { return (0, 0) }
            let live = graph.liveLabels()
            let entries = partition.entries.values.count { entry in
                partition.pending[entry.id] == nil && (!live.contains(entry.label) || graph.vector(label: entry.label) != entry.vector)
            }
            return (entries, live.count { partition.byLabel[$0] == nil })
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
        let waiting = state.withLock { state in state.partitions.values.contains { $0.graph != nil && !$0.pending.isEmpty } }
        if waiting { mergeLoop.request() }
    }

    private enum MergeWork {
        case add(namespace: String, graph: HNSWGraph, batch: [(UUID, Int, [Float])])
        case compact(namespace: String, graph: HNSWGraph, live: [(label: Int, vector: [Float])])
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
                    .compactMap { id, label in partition.entries[id].map { (id, label, $0.vector) } }
                state.partitions[namespace]!.claimed.formUnion(batch.map(\.0))
                return .add(namespace: namespace, graph: partition.graph!, batch: Array(batch))
            }
            if background, let (namespace, partition) = state.partitions.first(where: { needsCompaction($0.value) }) {
                return .compact(namespace: namespace, graph: partition.graph!, live: partition.entries.values.map { ($0.label, $0.vector) })
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
        }
    }

    private func add(_ batch: [(UUID, Int, [Float])], to graph: HNSWGraph, of namespace: String) {
        var added: Set<UUID> = []
        for (id, label, vector) in batch where (try? graph.add(vector, label: label)) != nil {
            added.insert(id)
        }
        state.withLock { state in
            state.merged += added.count
            for (id, label, vector) in batch {
                state.partitions[namespace]?.claimed.remove(id)
                guard added.contains(id) else {
                    state.partitions[namespace]?.pending[id] = nil  // the graph refused it; exact scans would hold it forever
                    continue
                }
                let partition = state.partitions[namespace]
                // A graph rebuilt meanwhile was reconciled with the entries; this copy went to the old one.
                guard partition?.graph === graph else { continue }
                if partition?.pending[id] == label, partition?.entries[id]?.vector == vector {
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

    /// Builds a new graph from a snapshot of the live vectors (searches and writes go on against
    /// the old one), then swaps it in and reconciles it with what changed meanwhile.
    private func compact(_ namespace: String, replacing old: HNSWGraph, live: [(label: Int, vector: [Float])]) -> Bool {
        guard
            let graph = try? HNSWGraph(
                dimension: dimension, capacity: max(live.count, parameters.exactThreshold) * 2, m: parameters.m,
                efConstruction: parameters.efConstruction, efSearch: parameters.efSearch)
        else {
            return false
        }
        for (position, (label, vector)) in live.enumerated() {
            try? graph.add(vector, label: label)
            if position % 256 == 255 { mergeLoop.beat() }
        }
        state.withLock { state in
            guard state.partitions[namespace]?.graph === old else { return }
            state.partitions[namespace]!.graph = graph
            state.merged += live.count
            Self.reconcile(graph, with: &state.partitions[namespace]!, comparingVectors: false)
        }
        return true
    }

    /// Makes a graph agree with the partition's entries: labels no entry holds are deleted; an
    /// entry the graph lacks, or holds an older vector for (replaced after a save, or after a
    /// rebuild's snapshot), waits in the buffer, and one it holds as it is leaves the buffer.
    /// A graph this process built from its own entries needs no vector compared (a copy and a
    /// compare per live vector, under the lock every search and write waits for): labels are never
    /// reused within a process, so a label holds the vector it was given. A saved graph is
    /// compared: a label it holds may have been given to another vector after the save.
    private static func reconcile(_ graph: HNSWGraph, with partition: inout Partition, comparingVectors: Bool) {
        let live = graph.liveLabels()
        for label in live where partition.byLabel[label] == nil { graph.markDeleted(label) }
        for (id, entry) in partition.entries {
            if live.contains(entry.label), !comparingVectors || graph.vector(label: entry.label) == entry.vector {
                if partition.pending[id] == entry.label { partition.pending[id] = nil }
            } else {
                graph.markDeleted(entry.label)
                partition.pending[id] = entry.label
            }
        }
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
            try GraphFiles(directory: directory).replace(with: graphs)
            state.withLock { state in
                state.savedThrough = through
                state.lastSave = Date()
            }
        }
    }

    /// Rebuilds partitions from stored entries, reusing a saved graph where one matches: entries the
    /// graph lacks go to the buffer, graph labels no entry has are deleted.
    public func load(_ entries: [(namespace: String, entry: Entry)], from directory: String) {
        var partitions: [String: Partition] = [:]
        for (namespace, entry) in entries {
            var normalised = entry
            normalised.vector = Self.normalised(entry.vector)
            partitions[namespace, default: Partition()].entries[entry.id] = normalised
            partitions[namespace]!.byLabel[entry.label] = entry.id
            partitions[namespace]!.nextLabel = max(partitions[namespace]!.nextLabel, entry.label + 1)
        }
        for namespace in Array(partitions.keys) {
            var partition = partitions.removeValue(forKey: namespace)!
            if let graph = GraphFiles(directory: directory).load(namespace, dimension: dimension, parameters: parameters) {
                Self.reconcile(graph, with: &partition, comparingVectors: true)
                partition.graph = graph
            } else if partition.entries.count > parameters.exactThreshold {
                partition.graph = try? HNSWGraph(
                    dimension: dimension, capacity: partition.entries.count * 2, m: parameters.m,
                    efConstruction: parameters.efConstruction, efSearch: parameters.efSearch)
                for (id, entry) in partition.entries { partition.pending[id] = entry.label }
            }
            partitions[namespace] = partition
        }
        state.withLock { $0.partitions = partitions }
        scheduleMerge()
    }

    // MARK: Math

    static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return vector }
        return vector.map { $0 / norm }
    }

    /// Dot product in 8-wide SIMD lanes (the compiler may not reorder a scalar float sum itself),
    /// loaded straight from memory: building each lane from an array slice cost most of the time.
    static func dot(_ a: [Float], _ b: [Float]) -> Double {
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
