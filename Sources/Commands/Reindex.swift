import ArgumentParser
import Foundation
import Logging
import SomaCore
import SomaInProcess
import SomaService

/// Re-embeds every memory with the configured embedder into a new generation of the vector
/// collection, and makes it the active one only when every memory is in it. Interrupted, it
/// resumes where it stopped. With the model already active, it indexes what lacks its vectors.
struct Reindex: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-embed every memory with the configured embedder, then switch the service over to the new index.")

    @OptionGroup var options: ServerOptions

    @Option(name: .customLong("batch-size"), help: "Memories per embedding round (SOMA_REINDEX_BATCH_SIZE, default 256).")
    var batchSize: Int?

    func run() async throws {
        let (source, settings) = try await options.load()
        let config = source.backendConfiguration
        let names = try settings.backends.resolved(in: Backends.registry)
        let batch = try batchSize ?? config.value(ServiceSetting.reindexBatchSize)
        guard batch >= 1 else { throw PlainFailure.startup("the batch size must be at least 1") }
        do {
            try await BackendLifetime.during(grace: settings.shutdownGrace, logger: .quiet("soma.reindex")) { lifetime in
                try await Self.reindex(names: names, config: config, engineOptions: settings.engine, batch: batch, in: lifetime)
            }
        } catch let failure as PlainFailure {
            throw failure
        } catch {
            throw PlainFailure.startup("\(error)")
        }
    }

    /// Embeds every memory with the configured model into its generation, then switches to it.
    static func reindex(
        names: [Capability: String], config: BackendConfiguration, engineOptions: EngineOptions, batch: Int, in lifetime: BackendLifetime
    ) async throws {
        let storage = try await Backends.registry.makeStorage(names[.storage]!, config, in: lifetime)
        let embedder = try await Backends.registry.makeEmbedder(names[.embedder]!, config, in: lifetime)
        let active = try await EmbeddingState.active(in: storage, adopting: embedder)
        let model = embedder.modelID
        let target: Int
        if active.model == model {
            target = active.generation
            say("model \(model) is already active (generation \(target)); indexing the memories that lack its vectors")
        } else if try await storage.serviceValue(EmbeddingState.reindexModelKey) == model,
            let resumed = try await storage.serviceValue(EmbeddingState.reindexGenerationKey).flatMap(Int.init)
        {
            target = resumed
            say("resuming the reindex from \(active.model) to \(model) into generation \(target)")
        } else {
            let started = try await storage.serviceValue(EmbeddingState.reindexGenerationKey).flatMap(Int.init) ?? 0
            target = max(active.generation, started) + 1
            try await storage.setServiceValues([EmbeddingState.reindexModelKey: model, EmbeddingState.reindexGenerationKey: String(target)])
            say("reindexing from \(active.model) to \(model) into generation \(target)")
        }
        let vectors = try await Backends.registry.makeVector(
            names[.vector]!, EngineAssembly.vectorConfiguration(config, embedder, generation: target), storage: storage, in: lifetime)
        var options = engineOptions
        options.indexSynchronously = true
        let engine = MemoryEngine(
            storage: storage, cache: InProcessCache(capacity: 1), vectors: vectors, bus: InProcessEventBus(), embedder: embedder, options: options)
        try await engine.prepare()
        var total = 0
        let progress = ProgressReport("embedded")
        // Writes made meanwhile by services on the old model are found by the next walk.
        for _ in 1...10 {
            let before = progress.done
            let indexed = try await engine.embedPending(notEmbeddedWith: model, batchSize: batch) { done in
                progress.advance(by: before + done - progress.done)
            }
            total += indexed
            if indexed == 0 { break }
        }
        try await vectors.flush()
        progress.finish("embedded \(total) memories")
        if active.model != model {
            try await storage.setServiceValues([
                EmbeddingState.modelKey: model, EmbeddingState.generationKey: String(target),
                EmbeddingState.reindexModelKey: nil, EmbeddingState.reindexGenerationKey: nil,
            ])
            say(
                "switched: generation \(target) (model \(model)) is now the index. Restart `soma serve` and `soma consume` with this configuration; "
                    + "the vectors of generation \(active.generation) are kept until you drop them.")
        }
    }
}

/// Progress goes out line by line, also when standard output is a file or a pipe (a log collector,
/// or an operator's `tee`), so that an interrupted run shows how far it got.
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
