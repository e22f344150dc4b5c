import Foundation
import Logging
import NIOSSL
import PostgresNIO
import SomaCore

/// How to reach PostgreSQL: `POSTGRES_URL` (`postgres://user:password@host:port/db?sslmode=...`),
/// `POSTGRES_POOL_SIZE` connections, `POSTGRES_TIMEOUT_MS` per operation.
///
/// `sslmode` follows libpq: `disable`; `prefer` (the default: TLS when the server offers it);
/// `require` (TLS, certificate not checked); `verify-ca` / `verify-full` (TLS, certificate checked,
/// against `sslrootcert` when given).
public struct PostgresEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String?
    public var sslMode: String
    public var rootCertificate: String?
    public var poolSize: Int
    public var timeout: Duration

    public static let url = Setting<String?>(
        "POSTGRES_URL", secret: true, "`postgres://user:password@host:5432/db?sslmode=prefer` (sslmode as libpq's)")
    static let poolSize = Setting<Int>("POSTGRES_POOL_SIZE", default: 10, in: 1...10_000, "Connections per process")
    static let timeoutMilliseconds = Setting<Int>(
        "POSTGRES_TIMEOUT_MS", default: 5000, in: 1...3_600_000, "Deadline per database call (an outage answers 503 at the deadline)")
    static let settings: [any DeclaredSetting] = [url, poolSize, timeoutMilliseconds]

    public init(_ configuration: BackendConfiguration) throws {
        guard let text = try configuration.value(Self.url) else {
            throw BackendError.invalidSetting(name: Self.url.name, reason: "required for the postgres and pgvector backends")
        }
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""), let host = url.host, !host.isEmpty else {
            throw BackendError.invalidSetting(name: Self.url.name, reason: "expected postgres://user:password@host:port/database")
        }
        self.host = host
        port = url.port ?? 5432
        username = url.user?.removingPercentEncoding ?? "postgres"
        password = url.password?.removingPercentEncoding
        let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        database = path.isEmpty ? nil : path
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        sslMode = query["sslmode"] ?? "prefer"
        rootCertificate = query["sslrootcert"]
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslMode) else {
            throw BackendError.invalidSetting(name: Self.url.name, reason: "unknown sslmode '\(sslMode)'")
        }
        poolSize = try configuration.value(Self.poolSize)
        timeout = .milliseconds(try configuration.value(Self.timeoutMilliseconds))
    }

    /// Where, without credentials: for logs and errors.
    public var description: String { "\(host):\(port)/\(database ?? username)" }

    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsMode.client)
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = timeout
        return configuration
    }

    /// One connection outside the pool, to check the endpoint at start-up: the pool retries failed
    /// connects quietly, while this reports why (wrong password, missing database, no TLS).
    func probe(logger: Logger) async throws {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsMode {
        case .disable: tls = .disable
        case .prefer(let settings): tls = .prefer(try NIOSSLContext(configuration: settings))
        case .require(let settings): tls = .require(try NIOSSLContext(configuration: settings))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .init(timeout)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        try await connection.close()
    }

    private enum TLSMode {
        case disable
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)

        var client: PostgresClient.Configuration.TLS {
            switch self {
            case .disable: .disable
            case .prefer(let settings): .prefer(settings)
            case .require(let settings): .require(settings)
            }
        }
    }

    private var tlsMode: TLSMode {
        var settings = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate { settings.trustRoots = .file(rootCertificate) }
        switch sslMode {
        case "disable": return .disable
        case "allow", "prefer":
            settings.certificateVerification = .none
            return .prefer(settings)
        case "require":
            settings.certificateVerification = .none
            return .require(settings)
        case "verify-ca":
            settings.certificateVerification = .noHostnameVerification
            return .require(settings)
        default:
            return .require(settings)
        }
    }
}
