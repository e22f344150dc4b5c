import Foundation
import SomaCore

/// Where Redis is and how to log in: `REDIS_URL` (`redis://[user][:password]@host:port/db`, or
/// `rediss://` for TLS), or `REDIS_HOST` / `REDIS_PORT` / `REDIS_DB` / `REDIS_PASSWORD` (and
/// `REDIS_TLS`); the separate settings override the URL.
public struct RedisEndpoint: Sendable, Equatable {
    /// TLS to the server: its certificate checked against the system's roots, or `caFile`'s.
    public struct TLS: Sendable, Equatable {
        public var caFile: String?

        public init(caFile: String? = nil) {
            self.caFile = caFile
        }
    }

    public var host: String
    public var port: Int
    public var database: Int
    public var username: String?
    public var password: String?
    /// Connect and per-command socket timeout.
    public var timeout: Duration
    /// Connections shared by every command (each carries many at once), besides those of blocking reads.
    public var poolSize: Int
    /// nil: plain TCP.
    public var tls: TLS?

    public init(host: String = "127.0.0.1", port: Int = 6379, database: Int = 0, username: String? = nil, password: String? = nil,
                timeout: Duration = .seconds(1), poolSize: Int = 8, tls: TLS? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.timeout = timeout
        self.poolSize = poolSize
        self.tls = tls
    }

    public init(_ configuration: BackendConfiguration) throws {
        self.init()
        if let url = configuration.string("REDIS_URL") { try apply(url: url) }
        if let host = configuration.string("REDIS_HOST") { self.host = host }
        port = try configuration.int("REDIS_PORT", default: port)
        database = try configuration.int("REDIS_DB", default: database)
        if let password = configuration.string("REDIS_PASSWORD") { self.password = password }
        timeout = .milliseconds(try configuration.int("REDIS_TIMEOUT_MS", default: 1000))
        poolSize = try configuration.int("REDIS_POOL_SIZE", default: poolSize)
        if try configuration.bool("REDIS_TLS", default: tls != nil) { tls = tls ?? TLS() } else { tls = nil }
        if let file = configuration.string("REDIS_TLS_CA_FILE") {
            guard tls != nil else { throw BackendError.invalidSetting(name: "REDIS_TLS_CA_FILE", reason: "needs TLS: a rediss:// URL or REDIS_TLS=true") }
            guard FileManager.default.isReadableFile(atPath: file) else { throw BackendError.invalidSetting(name: "REDIS_TLS_CA_FILE", reason: "cannot read \(file)") }
            tls?.caFile = file
        }
        guard (1...65535).contains(port) else { throw BackendError.invalidSetting(name: "REDIS_PORT", reason: "\(port) is not a TCP port") }
        guard database >= 0 else { throw BackendError.invalidSetting(name: "REDIS_DB", reason: "must be 0 or more") }
        guard poolSize >= 1 else { throw BackendError.invalidSetting(name: "REDIS_POOL_SIZE", reason: "must be at least 1") }
        guard timeout > .zero else { throw BackendError.invalidSetting(name: "REDIS_TIMEOUT_MS", reason: "must be positive") }
    }

    private mutating func apply(url text: String) throws {
        guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw BackendError.invalidSetting(name: "REDIS_URL", reason: "expected redis[s]://[user][:password]@host[:port][/db]")
        }
        switch url.scheme {
        case "redis": tls = nil
        case "rediss": tls = TLS()
        default: throw BackendError.invalidSetting(name: "REDIS_URL", reason: "the scheme must be redis:// or rediss:// (TLS)")
        }
        self.host = host
        if let port = url.port { self.port = port }
        if let user = url.user?.removingPercentEncoding, !user.isEmpty { username = user }
        if let password = url.password?.removingPercentEncoding, !password.isEmpty { self.password = password }
        let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw BackendError.invalidSetting(name: "REDIS_URL", reason: "the path must be a database number, got '\(path)'")
            }
            self.database = database
        }
    }
}
