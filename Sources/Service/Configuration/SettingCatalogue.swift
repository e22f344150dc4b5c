import SomaCore

/// Every setting a `soma` process reads: the service's own, listed here, and each registered
/// backend's, as it declared them when it registered. `soma config` prints from it, the redaction
/// of logs, answers and `soma config` takes its secrets, the Helm chart's drift test reads it (through
/// `soma config --names`), and a unit test checks that the sources read no name missing from it.
public struct SettingCatalogue: Sendable {
    public let settings: [SettingDescription]
    public let secretNames: Set<String>

    public init(registry: BackendRegistry) {
        var seen = Set(Self.service.map(\.name))
        settings = Self.service + registry.settings.filter { seen.insert($0.name).inserted }
        secretNames = Set(settings.filter(\.isSecret).map(\.name))
    }

    public var names: [String] { settings.map(\.name) }
    public func isSecret(_ name: String) -> Bool { secretNames.contains(name) }

    /// The service's own settings (`ServiceSetting`), then the original's that it ignores.
    public static let service: [SettingDescription] =
        ServiceSetting.all.map(\.described)
        + OriginalSettings.ignored.map { SettingDescription($0.name, "the original's; ignored here: \($0.reason)") }
}
