import ArgumentParser
import Foundation
import Logging
import SomaCore
import SomaService

/// `soma doctor`: reads the configuration as `serve` would, then checks it end to end, one line
/// per check with a fix for each failure. Exits 0 only when every check passes. Schema
/// migrations are checked, not applied; what `serve` would create at start (the SQLite file, a
/// missing vector collection) is created as `serve` would.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration and every configured backend, one line each, with a fix for each failure.")

    @OptionGroup var options: ServerOptions

    @Flag(help: "Print the checks as JSON.")
    var json = false

    @Option(help: "Seconds each backend check may take.")
    var timeout = 10

    struct Check: Encodable {
        let check: String
        let ok: Bool
        let detail: String
        let fix: String?
    }

    func run() async throws {
        var checks: [Check] = []
        defer { report(checks) }
        let source: SettingsSource
        let settings: ServiceSettings
        let names: [Capability: String]
        do {
            (source, settings) = try await options.load()
            names = try settings.backends.resolved(in: Backends.registry)
            checks.append(Check(check: "settings", ok: true, detail: "read and valid", fix: nil))
        } catch let BackendError.unknownBackend(capability, name, known) {
            checks.append(
                Check(
                    check: "settings", ok: false,
                    detail: "\(capability.selectionSetting) names '\(name)', a \(capability) backend this build does not have",
                    fix: "set \(capability.selectionSetting) to one of: \(known.joined(separator: ", ")) (or unset it to let the settings choose)"))
            return
        } catch {
            checks.append(
                Check(
                    check: "settings", ok: false, detail: "\(error)", fix: "correct the setting named above (`soma config` lists the effective ones)")
            )
            return
        }
        // Checked, never applied: a doctor that migrated would change what it examines.
        let config = source.backendConfiguration.overriding([SharedSettings.autoMigrate.name: "false"])
        if Backends.registry.description(.storage, names[.storage]!)?.reads(SharedSettings.dataDirectory) == true {
            checks.append(dataDirectory(settings.dataDirectory))
        }
        if let path = source.string(ServiceSetting.apiTokenFile.name) {
            let readable = FileManager.default.isReadableFile(atPath: path)
            checks.append(
                Check(
                    check: "token file", ok: readable, detail: readable ? "\(path) is readable" : "cannot read \(path)",
                    fix: readable ? nil : "make \(ServiceSetting.apiTokenFile.name) point at a file this user can read"))
        }
        let timeout = timeout
        let found = try? await BackendLifetime.during(logger: .quiet("soma.doctor")) { lifetime in
            await Self.checkBackends(names: names, config: config, timeout: timeout, in: lifetime)
        }
        checks += found ?? []
    }

    /// What to check when the backend chosen for `capability` fails: its own registration says.
    static func fix(_ capability: Capability, _ names: [Capability: String]) -> String {
        Backends.registry.description(capability, names[capability]!)?.diagnosis ?? "check the \(capability) backend's settings"
    }

    /// Builds each backend (its services under `lifetime`) and asks it to answer, each within `timeout`.
    static func checkBackends(names: [Capability: String], config: BackendConfiguration, timeout: Int, in lifetime: BackendLifetime) async -> [Check]
    {
        var checks: [Check] = []
        let embedder = await probe("embedder \(names[.embedder]!)", fix: fix(.embedder, names), timeout: timeout, into: &checks) {
            let embedder = try await Backends.registry.makeEmbedder(names[.embedder]!, config, in: lifetime)
            return (embedder, "model \(embedder.modelID), \(embedder.dimension) dimensions")
        }
        let storage = await probe("storage \(names[.storage]!)", fix: fix(.storage, names), timeout: timeout, into: &checks) {
            let storage = try await Backends.registry.makeStorage(names[.storage]!, config, in: lifetime)
            guard await storage.isHealthy() else { throw DoctorFailure("it does not answer") }
            return (storage, "reachable, schema up to date")
        }
        _ = await probe("cache \(names[.cache]!)", fix: fix(.cache, names), timeout: timeout, into: &checks) {
            let cache = try await Backends.registry.makeCache(names[.cache]!, config, in: lifetime)
            guard await cache.isHealthy() else { throw DoctorFailure("it does not answer, or refuses the credentials") }
            return (cache, "reachable")
        }
        _ = await probe("event bus \(names[.bus]!)", fix: fix(.bus, names), timeout: timeout, into: &checks) {
            let bus = try await Backends.registry.makeBus(names[.bus]!, config, in: lifetime)
            guard await bus.isHealthy() else { throw DoctorFailure("no broker answers") }
            return (bus, "reachable")
        }
        if let embedder, let storage {
            _ = await probe("vector index \(names[.vector]!)", fix: fix(.vector, names), timeout: timeout, into: &checks) {
                let generation = try await EmbeddingState.check(storage, embedder)
                let vectors = try await Backends.registry.makeVector(
                    names[.vector]!, EngineAssembly.vectorConfiguration(config, embedder, generation: generation), storage: storage, in: lifetime)
                try await vectors.ensureCollection(dimension: embedder.dimension)
                guard await vectors.isHealthy() else { throw DoctorFailure("it does not answer") }
                return (vectors, "reachable, \(embedder.dimension) dimensions as the embedder's, generation \(generation)")
            }
        }
        return checks
    }

    /// Runs one check within the timeout: what it built, or nil with the failure recorded.
    static func probe<Value: Sendable>(
        _ name: String, fix: String, timeout seconds: Int, into checks: inout [Check], _ body: @escaping @Sendable () async throws -> (Value, String)
    ) async -> Value? {
        let outcome: Result<(Value, String), any Error> = await withTaskGroup(of: Result<(Value, String), any Error>?.self) { group in
            group.addTask { do { return .success(try await body()) } catch { return .failure(error) } }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return Task.isCancelled ? nil : .failure(DoctorFailure("no answer within \(seconds) s"))
            }
            let first = await group.next()!!
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let (value, detail)):
            checks.append(Check(check: name, ok: true, detail: detail, fix: nil))
            return value
        case .failure(let held as HeldByAnotherProcess):
            // A running service owns it: that is the normal state of a served directory, not a fault.
            checks.append(
                Check(
                    check: name, ok: true,
                    detail: "in use by a running service: \(held.resource), held by "
                        + "\(held.holder.map { "process \($0)" } ?? "another process"); not opened a second time", fix: nil))
            return nil
        case .failure(let error):
            // A backend's error names the backend; the check's name already does.
            let detail = "\(error)"
            checks.append(
                Check(check: name, ok: false, detail: detail.hasPrefix("\(name): ") ? String(detail.dropFirst(name.count + 2)) : detail, fix: fix))
            return nil
        }
    }

    func dataDirectory(_ path: String) -> Check {
        let probe = (path as NSString).appendingPathComponent(".soma-doctor-\(getpid())")
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            return Check(
                check: "data directory", ok: false, detail: FileProblem.creatingDirectory(path, error),
                fix: "set \(SharedSettings.dataDirectory.name) (or --data-dir) to a directory uid \(getuid()) can create and write")
        }
        do {
            try Data("ok".utf8).write(to: URL(fileURLWithPath: probe))
            try FileManager.default.removeItem(atPath: probe)
            return Check(check: "data directory", ok: true, detail: "\(path) is writable", fix: nil)
        } catch {
            return Check(
                check: "data directory", ok: false, detail: "cannot write in \(path) as uid \(getuid())",
                fix:
                    "give uid \(getuid()) write access to \(path) (chown, or the pod's fsGroup), or set \(SharedSettings.dataDirectory.name) to a writable directory"
            )
        }
    }

    func report(_ checks: [Check]) {
        if json {
            let data = (try? SomaJSON.encoder().encode(checks)) ?? Data("[]".utf8)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            let colour = Terminal.colour()
            for check in checks {
                let mark = check.ok ? Terminal.styled("ok  ", .green, colour: colour) : Terminal.styled("FAIL", .red, colour: colour)
                print("\(mark) \(check.check): \(check.detail)")
                if let fix = check.fix { print("     fix: \(fix)") }
            }
            let failed = checks.filter { !$0.ok }.count
            print(failed == 0 ? "all \(checks.count) checks passed" : "\(failed) of \(checks.count) checks failed")
        }
        if checks.contains(where: { !$0.ok }) { Foundation.exit(1) }
    }
}

struct DoctorFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
