import SomaCore

/// What `soma config` prints, from the catalogue (the service's settings and the registered backends').
public enum ConfigListing {
    /// Each setting that is set, secrets redacted, then the backend chosen per capability and why.
    public static func effective(_ catalogue: SettingCatalogue, _ source: SettingsSource, chosen: [Capability: ChosenBackend]) -> [String] {
        var lines = catalogue.names.compactMap { name in
            source.string(name).map { value in "\(name)=\(catalogue.isSecret(name) ? redacted(value) : value)" }
        }
        for capability in Capability.allCases {
            guard let choice = chosen[capability] else { continue }
            lines.append("backend.\(capability)=\(choice.name)  # \(choice.reason)")
        }
        return lines
    }

    /// Every setting with its default, whether it is secret, and its meaning.
    public static func described(_ catalogue: SettingCatalogue) -> [String] {
        catalogue.settings.map { setting in
            "\(setting.name)=\(setting.defaultValue ?? "")\(setting.isSecret ? "  (secret)" : "")  # \(setting.meaning)"
        }
    }

    /// A URL keeps its shape with the password masked; any other secret is only said to be set.
    static func redacted(_ value: String) -> String {
        value.contains("://") ? Redaction.url(value) : "***"
    }
}
