// Needs the Postgres trait (Package.swift).
#if Postgres
import ArgumentParser
import Foundation
import Logging
import SomaCore
import SomaPostgres

/// Copies the original service's memories and links from its PostgreSQL into this service's
/// configured storage, through the engine, so the configured embedder makes the vectors.
/// Resumable: a memory already held with the same content, or a link already held, is skipped,
/// so a rerun after an interruption finishes the job and changes nothing twice.
struct MigrateFromOriginal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-from-original",
        abstract: "Copy the original service's memories and links (its PostgreSQL kv_store) into this service's storage.")

    @OptionGroup var options: ServerOptions

    @Option(help: "The original's PostgreSQL URL (its POSTGRES_URL), e.g. postgres://user:password@host:5432/somamemory.")
    var from: String

    @Option(help: "Copy only this namespace (default: every namespace).")
    var namespace: String?

    @Option(name: .customLong("batch-size"), help: "Memories per transaction.")
    var batchSize = 200

    @Option(name: .customLong("connect-timeout"), help: "Seconds to reach the original's PostgreSQL before giving up.")
    var connectTimeout = 10

    func run() async throws {
        guard (1...1000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 1000") }
        guard (1...3600).contains(connectTimeout) else { throw ValidationError("--connect-timeout must be between 1 and 3600 seconds") }
        let (from, namespace, batchSize, timeout) = (from, namespace, batchSize, Duration.seconds(connectTimeout))
        try await options.withEngine(
            label: "soma.migrate",
            adjust: { settings in
                settings.engine.indexSynchronously = true  // no consumer runs for a one-off copy
            }
        ) { started, engine, lifetime in
            let original: OriginalKVStore
            do {
                original = try await lifetime.start(try OriginalKVStore.open(url: from, timeout: timeout), name: "original postgres")
            } catch {
                throw PlainFailure.startup("--from: \(error)")
            }
            var tally = MigrationTally(logger: started.logger, progress: ProgressReport("memories read"))
            let migration = Migration(
                engine: engine, original: original, namespace: namespace, batchSize: batchSize,
                maxDimensions: started.settings.engine.maxCoordinateDimensions)
            do {
                let total = try await original.count(namespace: namespace)
                tally.progress.total = total
                say("migrating \(total) memories from \(original.description)\(namespace.map { " (namespace \($0))" } ?? "")")
                try await migration.memories(into: &tally)
                try await migration.links(into: &tally)
                try await engine.vectors.flush()
            } catch {
                tally.progress.finish(tally.summary)
                throw PlainFailure.startup("migration stopped (rerun to resume): \(error)")
            }
            tally.progress.finish(tally.summary)
        }
    }
}

/// Counts, with progress on the way (items, rate, time left) and a summary at the end.
struct MigrationTally {
    let logger: Logger
    let progress: ProgressReport
    var read = 0, migrated = 0, skipped = 0, refused = 0
    var linksMigrated = 0, linksSkipped = 0, linksRefused = 0

    mutating func refuse(_ key: String, _ reason: String, link: Bool = false) {
        if link { linksRefused += 1 } else { refused += 1 }
        logger.warning("refused", metadata: ["key": .string(key), "reason": .string(reason)])
    }

    var summary: String {
        "read \(read), migrated \(migrated), skipped \(skipped) (already here), refused \(refused); "
            + "links migrated \(linksMigrated), skipped \(linksSkipped), refused \(linksRefused)"
    }
}

struct Migration {
    let engine: MemoryEngine
    let original: OriginalKVStore
    let namespace: String?
    let batchSize: Int
    let maxDimensions: Int

    /// Every `:data` row, a page at a time: decoded, compared with what storage holds, stored.
    func memories(into tally: inout MigrationTally) async throws {
        var after: String?
        while true {
            let rows = try await original.rows(after: after, namespace: namespace, limit: batchSize)
            guard let last = rows.last else { return }
            after = last.key
            tally.read += rows.count
            var drafts: [MemoryDraft] = []
            for row in rows {
                switch draft(row) {
                case .success(let draft): drafts.append(draft)
                case .failure(let refusal): tally.refuse(row.key, refusal.description)
                }
            }
            for (namespace, group) in Dictionary(grouping: drafts, by: \.namespace) {
                let fresh = try await changed(group, in: namespace)
                tally.skipped += group.count - fresh.count
                tally.migrated += try await engine.store(fresh).count
            }
            tally.progress.advance(by: rows.count)
        }
    }

    /// The links kept inside memory rows, once every memory is here (a link's target may come later in key order).
    func links(into tally: inout MigrationTally) async throws {
        var after: String?
        while true {
            let rows = try await original.rows(after: after, namespace: namespace, limit: batchSize, withLinks: true)
            guard let last = rows.last else { return }
            after = last.key
            for row in rows {
                guard let (namespace, values) = OriginalMemory.parseKey(row.key), let from = try? Coordinate(values, maxDimensions: maxDimensions),
                    let value = try? JSONReader.value(Array(row.value.utf8))
                else { continue }  // refused with its memory above
                let links: [Link]
                do {
                    links = try OriginalMemory.links(value, from: from, maxDimensions: maxDimensions)
                } catch {
                    tally.refuse(row.key, "links: \(error.description)", link: true)
                    continue
                }
                for link in links {
                    do {
                        let held = try await engine.neighbors(namespace: namespace, of: from, type: link.type, limit: engine.options.maxListLimit)
                        if held.contains(where: { $0.to == link.to && $0.weight == link.weight }) {
                            tally.linksSkipped += 1
                            continue
                        }
                        try await engine.link(namespace: namespace, link)
                        tally.linksMigrated += 1
                    } catch EngineError.notFound(let reason) {
                        tally.refuse(row.key, "link to \(link.to): \(reason)", link: true)
                    } catch EngineError.invalid(let reason) {
                        tally.refuse(row.key, "link to \(link.to): \(reason)", link: true)
                    }
                }
            }
        }
    }

    /// The row as a draft, or why it cannot be one. Importance missing from the memory is read from its meta row.
    func draft(_ row: OriginalKVStore.Row) -> Result<MemoryDraft, OriginalMemory.Refused> {
        Result { () throws(OriginalMemory.Refused) -> MemoryDraft in
            guard let (namespace, coordinate) = OriginalMemory.parseKey(row.key) else {
                throw .init("the key is not <namespace>:<coordinate tuple>:data")
            }
            guard Namespace.isValid(namespace) else { throw .init("namespace '\(namespace)' is not 1 to 64 letters, digits, '_', '-' or '.'") }
            guard let value = try? JSONReader.value(Array(row.value.utf8)) else { throw .init("the value is not JSON") }
            var draft = try OriginalMemory.draft(value, namespace: namespace, coordinate: coordinate, maxDimensions: maxDimensions)
            if value["importance"] == nil, let meta = row.meta.flatMap({ try? JSONReader.value(Array($0.utf8)) }),
                let importance = meta["importance"]?.doubleValue, importance.isFinite
            {
                draft.importance = importance
            }
            do {
                try engine.validate(draft)
            } catch {
                throw .init("\(error)")
            }
            return draft
        }
    }

    /// The drafts whose memory storage does not already hold with the same content.
    func changed(_ drafts: [MemoryDraft], in namespace: String) async throws -> [MemoryDraft] {
        let held = try await engine.storage.get(
            namespace: namespace, ids: drafts.map { MemoryID.make(namespace: namespace, coordinate: $0.coordinate) })
        let byCoordinate = Dictionary(held.map { ($0.coordinate, $0) }, uniquingKeysWith: { first, _ in first })
        return drafts.filter { draft in
            guard let memory = byCoordinate[draft.coordinate] else { return true }
            return !memory.holds(draft)
        }
    }
}

private func say(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
#endif
