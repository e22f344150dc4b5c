import Configuration
import Foundation
import SomaCore
import SystemPackage

/// Reads settings by their environment-variable names (`SOMA_PORT`, `REDIS_URL`) from, in order of
/// precedence: command-line flags, the environment, then an optional YAML or JSON file whose keys
/// are the same names in lower case (`soma_port: 9595`).
public struct SettingsSource: Sendable {
    let reader: ConfigReader
    /// Names whose values are secrets: never printed, never logged (the catalogue's, so the
    /// service's and every registered backend's).
    public let secretNames: Set<String>

    public init(reader: ConfigReader, secretNames: Set<String>) {
        self.reader = reader
        self.secretNames = secretNames
    }

    /// Flags over environment over file.
    public static func load(
        flags: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment, file: String? = nil,
        catalogue: SettingCatalogue
    ) async throws -> SettingsSource {
        let secretNames = catalogue.secretNames
        var providers: [any ConfigProvider] = []
        if !flags.isEmpty {
            let values = Dictionary(
                uniqueKeysWithValues: flags.map { name, value in
                    (AbsoluteConfigKey([name.lowercased()]), ConfigValue(.string(value), isSecret: secretNames.contains(name)))
                })
            providers.append(InMemoryProvider(name: "flags", values: values))
        }
        providers.append(EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secretNames)))
        if let file {
            do {
                if file.hasSuffix(".json") {
                    providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
                } else {
                    providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
                }
            } catch {
                let problem = FileProblem.unreadable(file).map { "cannot read configuration file \(file): \($0)" }
                throw SettingsError(
                    problem ?? "configuration file \(file) is not valid \(file.hasSuffix(".json") ? "JSON" : "YAML"): \(FileProblem.reason(error))")
            }
        }
        return SettingsSource(reader: ConfigReader(providers: providers), secretNames: secretNames)
    }

    /// The value as its provider holds it: text from flags and the environment, a number or a
    /// boolean as a YAML or JSON file typed it (each `Setting` reads its own type from either).
    func raw(_ name: String) -> RawSetting? {
        let key = ConfigKey([name.lowercased()])
        let secret = secretNames.contains(name)
        if let text = reader.string(forKey: key, isSecret: secret), !text.isEmpty { return .text(text) }
        if let number = reader.int(forKey: key, isSecret: secret) { return .int(number) }
        if let number = reader.double(forKey: key, isSecret: secret) { return .double(number) }
        if let flag = reader.bool(forKey: key, isSecret: secret) { return .bool(flag) }
        return nil
    }

    /// As text, for listings (`soma config`).
    public func string(_ name: String) -> String? { raw(name)?.text }

    public var backendConfiguration: BackendConfiguration {
        let source = self
        return BackendConfiguration(raw: { source.raw($0) })
    }
}

public struct SettingsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
