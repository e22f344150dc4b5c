import Crypto
import Foundation

/// A Lua script called by its SHA1 (`EVALSHA`): the server keeps it once loaded, so a call sends
/// the hash, not the source. `RedisClient.pipeline(_:scripts:)` loads it where the server lacks it.
public struct RedisScript: Sendable {
    public let source: String
    /// The lower-case hex SHA1 of the source, as Redis names the script.
    public let sha: String

    public init(_ source: String) {
        self.source = source
        sha = Insecure.SHA1.hash(data: Data(source.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// `EVALSHA sha numkeys keys... arguments...`
    public func call(keys: [String], arguments: [[UInt8]]) -> [[UInt8]] {
        (["EVALSHA", sha, String(keys.count)] + keys).map { Array($0.utf8) } + arguments
    }

    var loadCommand: [[UInt8]] { ["SCRIPT", "LOAD", source].map { Array($0.utf8) } }
}

extension RedisReply {
    /// The server does not hold the script a command called by SHA.
    var isNoScript: Bool {
        if case .error(let message) = self { return message.hasPrefix("NOSCRIPT") }
        return false
    }
}
