import Foundation

/// The bearer tokens the service accepts, each allowed all namespaces or a listed few.
public struct AccessTokens: Sendable {
    public struct Grant: Sendable {
        let token: [UInt8]
        /// nil: every namespace.
        public let namespaces: Set<String>?
        /// Used in logs and rate-limit keys instead of the token.
        public let label: String
    }

    public let grants: [Grant]

    public var isEmpty: Bool { grants.isEmpty }

    public init(grants: [(token: String, namespaces: Set<String>?)]) {
        self.grants = grants.enumerated().map { index, grant in
            Grant(token: Array(grant.token.utf8), namespaces: grant.namespaces, label: "token\(index + 1)")
        }
    }

    /// Parses a tokens file: one `token: ns1,ns2` per line (`*` or nothing after the colon: every
    /// namespace); blank lines and `#` comments are skipped.
    public static func parseFile(_ text: String) throws -> [(token: String, namespaces: Set<String>?)] {
        var grants: [(String, Set<String>?)] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let token = parts.first, !token.isEmpty else {
                throw SettingsError("tokens file line \(number + 1): expected 'token: namespace,namespace'")
            }
            let list = parts.count > 1 ? parts[1] : "*"
            let namespaces = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            grants.append((token, namespaces.isEmpty || namespaces.contains("*") ? nil : Set(namespaces)))
        }
        return grants
    }

    /// The grant for a presented token. Compares against every token in constant time per byte,
    /// without stopping at the first match, so timing says nothing about which token or how much matched.
    public func grant(for presented: String) -> Grant? {
        let bytes = Array(presented.utf8)
        var found: Grant?
        for grant in grants where Self.constantTimeEquals(grant.token, bytes) {
            found = found ?? grant
        }
        return found
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
