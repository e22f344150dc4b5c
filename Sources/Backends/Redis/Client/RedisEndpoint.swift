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

    public init(
        host: String = "127.0.0.1", port: Int = 6379, database: Int = 0, username: String? = nil, password: String? = nil,
        timeout: Duration = .seconds(1), poolSize: Int = 8, tls: TLS? = nil
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.timeout = timeout
        self.poolSize = poolSize
        self.tls = tls
    }

    public static let url = Setting<String?>(
        "REDIS_URL", secret: true, "`redis://[user][:password]@host:port/db`; the separate settings override its parts")
    static let hostSetting = Setting<String?>("REDIS_HOST", "The Redis host, when REDIS_URL is unset")
    // Optional, with the defaults shown: unset, they leave what the URL says.
    static let portSetting = Setting<Int?>("REDIS_PORT", shownDefault: "6379", "The Redis port")
    static let databaseSetting = Setting<Int?>("REDIS_DB", shownDefault: "0", "The Redis database number")
    static let passwordSetting = Setting<String?>("REDIS_PASSWORD", secret: true, "The Redis password")
    static let timeoutSetting = Setting<Int>("REDIS_TIMEOUT_MS", default: 1000, in: 1...3_600_000, "Connect and command timeout")
    static let poolSizeSetting = Setting<Int>(
        "REDIS_POOL_SIZE", default: 8, in: 1...10_000,
        "Connections the cache's (or the bus's) commands share, many in flight on each; a blocking stream read takes one of its own")
    static let tlsSetting = Setting<Bool?>("REDIS_TLS", shownDefault: "false", "TLS without a rediss:// URL (with REDIS_HOST)")
    static let caFileSetting = Setting<String?>("REDIS_TLS_CA_FILE", "PEM certificates to trust for Redis's TLS instead of the system's")
    static let settings: [any DeclaredSetting] = [
        url, hostSetting, portSetting, databaseSetting, passwordSetting, timeoutSetting, poolSizeSetting, tlsSetting, caFileSetting,
    ]

    public init(_ configuration: BackendConfiguration) throws {
        self.init()
        if let url = try configuration.value(Self.url) { try apply(url: url) }
        if let host = try configuration.value(Self.hostSetting) { self.host = host }
        if let port = try configuration.value(Self.portSetting) { self.port = port }
        if let database = try configuration.value(Self.databaseSetting) { self.database = database }
        if let password = try configuration.value(Self.passwordSetting) { self.password = password }
        timeout = .milliseconds(try configuration.value(Self.timeoutSetting))
        poolSize = try configuration.value(Self.poolSizeSetting)
        if let tls = try configuration.value(Self.tlsSetting) { self.tls = tls ? self.tls ?? TLS() : nil }
        if let file = try configuration.value(Self.caFileSetting) {
            guard tls != nil else {
                throw BackendError.invalidSetting(name: Self.caFileSetting.name, reason: "needs TLS: a rediss:// URL or \(Self.tlsSetting.name)=true")
            }
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw BackendError.invalidSetting(name: Self.caFileSetting.name, reason: "cannot read \(file)")
            }
            tls?.caFile = file
        }
        guard (1...65535).contains(port) else { throw BackendError.invalidSetting(name: Self.portSetting.name, reason: "\(port) is not a TCP port") }
        guard database >= 0 else { throw BackendError.invalidSetting(name: Self.databaseSetting.name, reason: "must be 0 or more") }
    }

    private mutating func apply(url text: String) throws {
        guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw BackendError.invalidSetting(name: Self.url.name, reason: "expected redis[s]://[user][:password]@host[:port][/db]")
        }
        switch url.scheme {
        case "redis": tls = nil
        case "rediss": tls = TLS()
        default: throw BackendError.invalidSetting(name: Self.url.name, reason: "the scheme must be redis:// or rediss:// (TLS)")
        }
        self.host = host
        if let port = url.port { self.port = port }
        if let user = url.user?.removingPercentEncoding, !user.isEmpty { username = user }
        if let password = url.password?.removingPercentEncoding, !password.isEmpty { self.password = password }
        let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw BackendError.invalidSetting(name: Self.url.name, reason: "the path must be a database number, got '\(path)'")
            }
            self.database = database
        }
    }
}
