import Foundation
import SomaCore
import Testing

/// What a backend declares it can do beyond its capability's protocol. Each backend's tests assert
/// its row of this matrix (`Abilities.of`) and run the suite of each ability it declares; the engine
/// takes a path by the same declarations, never by a downcast.
public enum Ability: String, Sendable, CaseIterable, Comparable {
    /// Storage: its own full-text index (`MemoryStorage.wordSearching`); else the engine scans.
    case wordSearch
    /// Storage: transactions a vector index may join (`MemoryStorage.transactionDomain`).
    case sharedTransactions
    /// Vector index: writes vectors in the records' transaction (`VectorIndex.recordBound`).
    case vectorsInRecordTransaction
    /// Event bus: its log lives in this process (`EventBus.volatileLog`); else it is durable.
    case volatileLog
    /// Cache: rate-limit counters every process shares (`MemoryCache.sharedCounters`).
    case sharedCounters

    public static func < (a: Ability, b: Ability) -> Bool { a.rawValue < b.rawValue }
}

public enum Abilities {
    public static func of(_ storage: any MemoryStorage) -> Set<Ability> {
        Set([storage.wordSearching != nil ? .wordSearch : nil, storage.transactionDomain != nil ? .sharedTransactions : nil].compactMap { $0 })
    }

    public static func of(_ vectors: any VectorIndex) -> Set<Ability> {
        vectors.recordBound != nil ? [.vectorsInRecordTransaction] : []
    }

    public static func of(_ bus: any EventBus) -> Set<Ability> {
        bus.volatileLog != nil ? [.volatileLog] : []
    }

    public static func of(_ cache: any MemoryCache) -> Set<Ability> {
        cache.sharedCounters != nil ? [.sharedCounters] : []
    }
}

/// A storage and the vector index that shares its transactions.
public struct BoundPair: Sendable {
    public let storage: any MemoryStorage
    public let vectors: any VectorIndex

    public init(storage: any MemoryStorage, vectors: any VectorIndex) {
        self.storage = storage
        self.vectors = vectors
    }
}

/// For vector indexes that declare `vectorsInRecordTransaction`, beside the storage they share it with.
public enum RecordBoundConformance {
    public typealias Check = ConformanceCheck<BoundPair>

    static func unit(_ axis: Int) -> [Float] {
        (0..<VectorConformance.dimension).map { $0 == axis ? 1 : 0 }
    }

    public static let checks: [Check] = [
        Check("records and their vectors are written in one transaction, with their events") { pair in
            let bound = try #require(pair.vectors.recordBound, "runs for indexes that declare vectors in the record's transaction")
            #expect(bound.transactionDomain == pair.storage.transactionDomain, "bound to this storage's transactions")
            try await pair.vectors.ensureCollection(dimension: VectorConformance.dimension)
            let ns = Fixture.namespace()
            let drafts = (0..<3).map { Fixture.draft(ns, Fixture.coordinate(Double($0)), ["text": .string("memory \($0)")]) }
            let stored = try await bound.upsert(drafts, vectors: (0..<3).map(unit), at: Fixture.now)
            #expect(stored.map(\.version) == [1, 1, 1])
            let read = try await pair.storage.get(namespace: ns, ids: stored.map(\.id))
            #expect(Set(read.map(\.id)) == Set(stored.map(\.id)), "the records are in storage")
            let nearest = try await pair.vectors.search(VectorQuery(vector: unit(1), namespace: ns, limit: 1))
            #expect(nearest.first?.id == stored[1].id, "the vectors are in the index")
            let events = try await pair.storage.pendingEvents(limit: 10_000).filter { $0.event.namespace == ns }
            #expect(Set(events.filter { $0.event.kind == .created }.map(\.event.id)) == Set(stored.map(\.id)), "each record has its event")
            try await pair.storage.markRelayed(events.map(\.sequence))
            // Stored again: a new version, and the vector moves with it.
            var again = drafts[0]
            again.payload = ["text": "memory 0, changed"]
            let updated = try await bound.upsert([again], vectors: [unit(2)], at: Fixture.now)
            #expect(updated.first?.version == 2)
            let moved = try await pair.vectors.search(VectorQuery(vector: unit(2), namespace: ns, limit: 2)).map(\.id)
            #expect(Set(moved) == Set([stored[0].id, stored[2].id]))
        }
    ]
}

/// For buses that declare `volatileLog`: the relay keeps events in the outbox until every reader
/// acknowledged them, by the offsets the log reports.
public enum VolatileBusConformance {
    public typealias Check = ConformanceCheck<any EventBus>

    public static let checks: [Check] = [
        Check("a volatile log reports what every reader has acknowledged") { bus in
            let log = try #require(bus.volatileLog, "runs for buses that declare a volatile log")
            let ns = Fixture.namespace()
            #expect(log.acknowledgedBelow() == nil, "nobody reads yet")
            let reader = try await bus.subscribe(group: "volatile-\(UUID())", consumer: "c")
            let offsets = try await log.publishTracked(BusConformance.events(3, namespace: ns))
            #expect(offsets.count == 3)
            #expect((log.acknowledgedBelow() ?? .max) <= offsets.lowerBound, "nothing acknowledged yet")
            let received = try await BusConformance.receive(reader, 3, namespace: ns)
            #expect(received.count == 3)
            #expect((log.acknowledgedBelow() ?? 0) >= offsets.upperBound, "all three acknowledged")
            await reader.close()
        }
    ]
}
