import ConformanceKit
import Foundation
import Logging
import SomaCommands
import SomaCore
import SomaService
import Testing

/// After SIGTERM (or the end of a one-off job's lifetime) every backend's resources are released
/// within the grace period: the server stops first, the backends' services after it in reverse
/// order, their connections are closed as the servers see them, and their threads are gone.
/// Run alone (`scripts/test.sh` gives them a step of their own): threads are counted by name in
/// this process, and another suite's index or Kafka client would be counted too.
@Suite(.serialized) struct ShutdownTests {
    static let grace = 10.0

    // MARK: soma serve, stopped by SIGTERM

    @Test func sigtermOnTheSQLiteDefault() async throws {
        let directory = Scratch.path("soma-shutdown").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["SOMA_DATA_DIR": directory, "SOMA_ANN_EXACT_THRESHOLD": "16", "LOG_LEVEL": "info"]
        let server = try SomaServer(environment: environment)
        try await server.ready()
        try await Self.storeMemories(server, count: 120)
        let stops = Self.stopCleanly(server)
        // Started embedder, storage, cache, vector, bus: stopped in reverse, the vector index (its
        // graphs saved) before the file it shares with the storage is closed.
        #expect(Self.order(stops, ["vector sqlite", "storage sqlite", "embedder minilm"]), "\(stops)")
        // The graphs saved at the stop are whole: the next start has nothing left to merge.
        let again = try SomaServer(environment: environment)
        try await again.ready()
        #expect(!again.logText.contains("vectors not in the saved graph"), "\(again.logText.suffix(1500))")
        #expect(Self.terminate(again).status == 0)
    }

    @Test(
        .enabled(
            if: Self.stackIsUp, "needs PostgreSQL, Redis, the Qdrant stand-in and the Kafka mock: run `eval \"$(scripts/servers.sh start)\"` first"))
    func sigtermOnTheStack() async throws {
        let server = try SomaServer(environment: Self.stackEnvironment(collection: "shutdown_\(UUID().uuidString.prefix(8).lowercased())"))
        try await server.ready()
        try await Self.storeMemories(server, count: 40)
        let postgres = try Self.connections(of: server.pid, toPort: Self.port(Self.database))
        let redis = try Self.connections(of: server.pid, toPort: Self.port(TestServers.redisURL!))
        #expect(!postgres.isEmpty && !redis.isEmpty, "the service holds pool connections while it runs")
        #expect(try Self.postgresSessions(ports: postgres) == postgres.count, "PostgreSQL sees them")
        let seen = try Self.redisClients(ports: redis)
        #expect(seen == redis.count, "Redis sees them: \(seen) of \(redis)")
        let stops = Self.stopCleanly(server)
        #expect(Self.order(stops, ["bus kafka", "vector qdrant", "cache redis", "storage postgres"]), "\(stops)")
        #expect(try Self.postgresSessions(ports: postgres) == 0, "PostgreSQL sessions of the stopped service remain")
        #expect(try Self.redisClients(ports: redis) == 0, "Redis clients of the stopped service remain")
    }

    // MARK: A lifetime in this process

    /// The SQLite default with the model: while the lifetime runs, the model's threads and the data
    /// file are in use; when it ends, the threads are gone and the file is closed, the graphs saved.
    @Test func aLifetimeEndsTheThreadsAndClosesTheFilesOfTheSQLiteDefault() async throws {
        let directory = Scratch.path("soma-lifetime").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = Self.backendThreads()
        let during = try await Self.withEngine(["SOMA_DATA_DIR": directory, "SOMA_ANN_EXACT_THRESHOLD": "16"]) { engine in
            _ = try await engine.store((0..<120).map { Self.draft($0) })
            return (Self.backendThreads(), Self.openFiles(under: directory))
        }
        #expect(during.0.contains { $0.hasPrefix("soma-embedder") }, "the model's threads ran: \(during.0)")
        #expect(during.1 > 0, "the data file was open")
        #expect(Self.backendThreads() == before, "threads left: \(Self.backendThreads())")
        #expect(Self.openFiles(under: directory) == 0, "files left open in the data directory")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).contains { $0.hasSuffix(".hnsw") }, "the graph was saved at the end")
    }

    @Test(
        .enabled(
            if: Self.stackIsUp, "needs PostgreSQL, Redis, the Qdrant stand-in and the Kafka mock: run `eval \"$(scripts/servers.sh start)\"` first"))
    func aLifetimeClosesEveryConnectionOfTheStack() async throws {
        let before = Self.backendThreads()
        let (postgres, redis, engine) = try await Self.withEngine(
            Self.stackEnvironment(collection: "lifetime_\(UUID().uuidString.prefix(8).lowercased())")
        ) { engine in
            _ = try await engine.store((0..<20).map { Self.draft($0) })
            _ = try await engine.recall(RecallRequest(namespace: "shutdown", query: "memory 3", topK: 3))
            let pid = getpid()
            return (
                try Self.connections(of: pid, toPort: Self.port(Self.database)),
                try Self.connections(of: pid, toPort: Self.port(TestServers.redisURL!)), engine
            )
        }
        #expect(!postgres.isEmpty && !redis.isEmpty, "the lifetime's pools were connected")
        #expect(try Self.postgresSessions(ports: postgres) == 0, "PostgreSQL still sees the pool's sessions")
        #expect(try Self.redisClients(ports: redis) == 0, "Redis still sees the pool's clients")
        #expect(Self.backendThreads() == before, "threads left: \(Self.backendThreads())")
        // Closed, not merely idle: the Kafka producer and the Qdrant client refuse further work.
        await #expect(throws: (any Error).self) { try await engine.bus.publish([MemoryEvent(.created, of: Self.memory(), at: Date())]) }
        await #expect(throws: (any Error).self) { _ = try await engine.vectors.count(namespace: "shutdown") }
    }

    // MARK: Helpers

    static var stackIsUp: Bool {
        TestServers.postgresStackURL != nil && TestServers.redisURL != nil && TestServers.qdrantURL != nil && TestServers.kafkaBootstrap != nil
    }

    /// A database of this suite's own: the stack tests' shared one holds another model's vectors.
    static let database: String = {
        let name = "soma_shutdown_\(getpid())"
        _ = try? run(["psql", TestServers.postgresStackURL!, "-Atc", "DROP DATABASE IF EXISTS \(name)"])
        _ = try? run(["psql", TestServers.postgresStackURL!, "-Atc", "CREATE DATABASE \(name)"])
        var url = URLComponents(string: TestServers.postgresStackURL!)!
        url.path = "/" + name
        return url.string!
    }()

    static func stackEnvironment(collection: String) -> [String: String] {
        [
            "POSTGRES_URL": database, "REDIS_URL": TestServers.redisURL!, "REDIS_DB": "11",
            "QDRANT_URL": TestServers.qdrantURL!, "QDRANT_API_KEY": TestServers.qdrantAPIKey ?? "", "QDRANT_COLLECTION": collection,
            "KAFKA_BOOTSTRAP_SERVERS": TestServers.kafkaBootstrap!, "KAFKA_TOPIC": collection, "SOMA_EMBEDDER": "hash", "LOG_LEVEL": "info",
        ]
    }

    static func draft(_ index: Int) -> MemoryDraft {
        Fixture.draft("shutdown", Fixture.coordinate(Double(index), 1), ["text": .string("memory \(index) about topic \(index % 5)")])
    }

    static func memory() -> Memory {
        Memory(
            namespace: "shutdown", coordinate: Fixture.coordinate(0, 1), type: .episodic, payload: [:], createdAt: Date(), updatedAt: Date(),
            version: 1)
    }

    /// Runs `job` with an engine built as `soma` builds it, under a lifetime that ends when it returns.
    static func withEngine<T: Sendable>(_ environment: [String: String], _ job: @escaping @Sendable (MemoryEngine) async throws -> T) async throws
        -> T
    {
        let registry = Backends.standard
        let source = try await SettingsSource.load(environment: environment, catalogue: SettingCatalogue(registry: registry))
        let settings = try ServiceSettings.read(source)
        let logger = Logger(label: "test")
        return try await BackendLifetime.during(grace: .seconds(grace), logger: logger) { lifetime in
            try await job(try await EngineAssembly.build(registry: registry, source: source, settings: settings, logger: logger, in: lifetime))
        }
    }

    static func storeMemories(_ server: SomaServer, count: Int) async throws {
        for start in stride(from: 0, to: count, by: 20) {
            let items = (start..<min(count, start + 20)).map { index in
                "{\"coord\": \"\(index),1\", \"payload\": {\"text\": \"memory \(index) about topic \(index % 5)\"}}"
            }
            let reply = try await server.call("POST", "/store_bulk", "{\"items\": [\(items.joined(separator: ","))]}", timeout: 60)
            #expect(reply.status == 200, "\(reply.text)")
        }
    }

    /// Sends SIGTERM and expects an exit of its own, with status 0, within the grace, the server
    /// stopped before any backend; returns the stopped services in order.
    static func stopCleanly(_ server: SomaServer) -> [String] {
        let (status, seconds) = terminate(server)
        let log = server.logText
        #expect(status == 0, "exit status \(status): \(log.suffix(1500))")
        #expect(seconds < grace, "stopped after \(seconds) s")
        #expect(log.hasSuffix("stopped\n"), "the last line says it stopped: \(log.suffix(300))")
        let stops = stoppedServices(log)
        #expect(stops.first?.hasPrefix("server") == true, "the server drains first: \(stops)")
        return stops
    }

    /// Sends SIGTERM and waits (up to twice the grace, then kills): the exit status and the seconds taken.
    static func terminate(_ server: SomaServer) -> (status: Int32, seconds: Double) {
        let started = Date()
        kill(server.pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(server.pid, &status, WNOHANG) == 0 {
            if Date().timeIntervalSince(started) > grace * 2 {
                kill(server.pid, SIGKILL)
                return (-1, Date().timeIntervalSince(started))
            }
            usleep(20_000)
        }
        let signal = status & 0x7f
        return (signal == 0 ? (status >> 8) & 0xff : 128 + signal, Date().timeIntervalSince(started))
    }

    /// The services the log says stopped, in order: "vector sqlite: GraphSaver", ...
    static func stoppedServices(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains("service stopped") }.compactMap { line in
            guard let range = line.range(of: "service=") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }

    /// Whether each name's first stop comes after the previous name's.
    static func order(_ stops: [String], _ names: [String]) -> Bool {
        let positions = names.map { name in stops.firstIndex { $0.hasPrefix(name) } }
        guard positions.allSatisfy({ $0 != nil }) else { return false }
        return zip(positions, positions.dropFirst()).allSatisfy { $0! < $1! }
    }

    static func port(_ url: String) -> Int {
        URLComponents(string: url)?.port ?? 0
    }

    /// Local ports of the process's established TCP connections to `port` on loopback.
    static func connections(of pid: pid_t, toPort port: Int) throws -> [Int] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        let inodes = Set(
            fds.compactMap { fd -> String? in
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                    target.hasPrefix("socket:[")
                else { return nil }
                return String(target.dropFirst(8).dropLast())
            })
        let table = try procFile("/proc/\(pid)/net/tcp") + procFile("/proc/\(pid)/net/tcp6")
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] == "01", inodes.contains(String(fields[9])),
                let remote = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }), remote == port,
                let local = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
            else { return nil }
            return local
        }
    }

    /// A file of /proc read to its end (they report no size, and a plain read stops at the first page).
    static func procFile(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ServerControlError(message: "cannot read \(path)") }
        defer { try? handle.close() }
        return String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
    }

    /// PostgreSQL's sessions from these client ports, as the server lists them (polled briefly: the
    /// server notices a closed connection a moment later).
    static func postgresSessions(ports: [Int]) throws -> Int {
        try settled {
            let output = try run([
                "psql", database, "-Atc",
                "SELECT count(*) FROM pg_stat_activity WHERE client_port IN (\(ports.map(String.init).joined(separator: ",")))",
            ])
            return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    /// Redis's clients from these ports, as `CLIENT LIST` gives them.
    static func redisClients(ports: [Int]) throws -> Int {
        try settled {
            let url = URLComponents(string: TestServers.redisURL!)!
            let output = try run([
                "redis-cli", "-h", url.host ?? "127.0.0.1", "-p", String(url.port ?? 6379), "-a", url.password ?? "",
                "--no-auth-warning", "CLIENT", "LIST",
            ])
            guard output.contains("addr=") else { throw ServerControlError(message: "redis-cli: \(output)") }
            let addresses = Set(ports.map { "addr=127.0.0.1:\($0)" })
            return output.split(separator: "\n").count { line in line.split(separator: " ").contains { addresses.contains(String($0)) } }
        }
    }

    /// The count once it is 0, or the last one after two seconds.
    static func settled(_ count: () throws -> Int) throws -> Int {
        var last = try count()
        for _ in 0..<40 where last != 0 {
            usleep(50_000)
            last = try count()
        }
        return last
    }

    static func run(_ arguments: [String]) throws -> String {
        let output = Scratch.path("shutdown", suffix: ".txt")
        defer { try? FileManager.default.removeItem(at: output) }
        let status = try Spawn.run(["/usr/bin/env"] + arguments, output: output.path)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw ServerControlError(message: "\(arguments[0]) exited with \(status): \(text)") }
        return text
    }

    /// Threads of this process that backends start (the model's, the index's, Kafka's, thread pools').
    static func backendThreads() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }.filter { name in ["soma-", "rdk:", "kafka-", "TP-#"].contains { name.hasPrefix($0) } }.sorted()
    }

    /// Descriptors of this process open on files under `directory`.
    static func openFiles(under directory: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.count { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"))?.hasPrefix(directory) ?? false
        }
    }
}
