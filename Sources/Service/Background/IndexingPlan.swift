import SomaCore

/// Who puts a store's vector into the index, decided once from the settings and what the bus
/// declares about itself, and logged at start-up.
struct IndexingPlan: Equatable, CustomStringConvertible {
    enum Indexer: Equatable {
        /// The API indexes as it writes (the default, and always with eventing off).
        case api
        /// This process's own consumer reads its in-process bus (a volatile bus is seen nowhere else).
        case thisProcess
        /// Consumer pods read the shared bus (Kafka, Redis Streams).
        case consumerPods
    }

    let indexer: Indexer
    /// Whether relayed events go to the bus; else they leave the outbox and go nowhere: with
    /// eventing off, and when the bus is this process's own and nothing here reads it (its log
    /// keeps every event for readers to come, and grew by every write, found by the soak).
    let publishesEvents: Bool

    init(indexSynchronously: Bool, eventingEnabled: Bool, bus: any EventBus) {
        let volatile = bus.volatileLog != nil
        indexer = indexSynchronously ? .api : volatile ? .thisProcess : .consumerPods
        publishesEvents = eventingEnabled && !(volatile && indexer == .api)
    }

    init(_ settings: ServiceSettings, bus: any EventBus) {
        self.init(indexSynchronously: settings.engine.indexSynchronously, eventingEnabled: settings.eventingEnabled, bus: bus)
    }

    /// The repair of failed indexing runs where the indexing does.
    var repairsHere: Bool { indexer != .consumerPods }

    var description: String {
        switch indexer {
        case .api: "the API indexes each store as it writes"
        case .thisProcess: "this process's consumer indexes from its in-process bus"
        case .consumerPods: "consumer processes (soma consume) index from the shared bus"
        }
    }
}
