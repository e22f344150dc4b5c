import Foundation

/// A setting as it is declared, once: its name, type, default, meaning and secrecy. The same value
/// describes it (`soma config`, the redaction of secrets, the chart's drift test) and reads it
/// (`BackendConfiguration.value(_:)`), so no name or default is written twice. `Value` is optional
/// for a setting whose absence means "not used" (`REDIS_HOST`).
public struct Setting<Value: SettingValue>: DeclaredSetting {
    public let described: SettingDescription
    public let defaultValue: Value
    /// Why a value is refused (out of range), or nil.
    let problem: @Sendable (Value) -> String?

    public var name: String { described.name }

    /// `shownDefault` replaces the default's text where it is computed ("chosen by the backends").
    public init(
        _ name: String, default defaultValue: Value, shownDefault: String? = nil, secret: Bool = false, _ meaning: String,
        problem: @escaping @Sendable (Value) -> String? = { _ in nil }
    ) {
        self.described = SettingDescription(name, default: shownDefault ?? defaultValue.settingText, secret: secret, meaning)
        self.defaultValue = defaultValue
        self.problem = problem
    }
}

extension Setting where Value: Comparable & Sendable {
    /// A value that must lie in `range`: a setting outside it fails start-up with its name.
    public init(_ name: String, default defaultValue: Value, in range: ClosedRange<Value>, shownDefault: String? = nil, _ meaning: String) {
        self.init(name, default: defaultValue, shownDefault: shownDefault, meaning) { value in
            range.contains(value) ? nil : "must be between \(range.lowerBound) and \(range.upperBound), got \(value)"
        }
    }
}

extension Setting {
    /// A setting that is unused when unset.
    public init<Wrapped>(
        _ name: String, shownDefault: String? = nil, secret: Bool = false, _ meaning: String,
        problem: @escaping @Sendable (Value) -> String? = { _ in nil }
    ) where Value == Wrapped? {
        self.init(name, default: nil, shownDefault: shownDefault, secret: secret, meaning, problem: problem)
    }
}

/// Any declared setting, whatever its type: what listings and registrations hold.
public protocol DeclaredSetting: Sendable {
    var described: SettingDescription { get }
}

/// A setting's value as its source holds it: text from the environment and flags, a typed value
/// from a YAML or JSON file.
public enum RawSetting: Sendable, Equatable {
    case text(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    public var text: String {
        switch self {
        case .text(let text): text
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): String(value)
        }
    }
}

/// A type a setting can hold: read from a raw value, shown as text.
public protocol SettingValue: Sendable {
    /// The value, or a reason it is not one ("expected an integer, got 'x'").
    static func parse(_ raw: RawSetting) -> Result<Self, SettingProblem>
    /// nil when the value is nothing to show (an unset optional).
    var settingText: String? { get }
}

public struct SettingProblem: Error, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

extension String: SettingValue {
    public static func parse(_ raw: RawSetting) -> Result<String, SettingProblem> { .success(raw.text) }
    public var settingText: String? { self }
}

extension Int: SettingValue {
    public static func parse(_ raw: RawSetting) -> Result<Int, SettingProblem> {
        if case .int(let value) = raw { return .success(value) }
        guard let value = Int(raw.text.trimmingCharacters(in: .whitespaces)) else {
            return .failure(SettingProblem("expected an integer, got '\(raw.text)'"))
        }
        return .success(value)
    }
    public var settingText: String? { String(self) }
}

extension Double: SettingValue {
    public static func parse(_ raw: RawSetting) -> Result<Double, SettingProblem> {
        switch raw {
        case .double(let value): return .success(value)
        case .int(let value): return .success(Double(value))
        default:
            guard let value = Double(raw.text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                return .failure(SettingProblem("expected a number, got '\(raw.text)'"))
            }
            return .success(value)
        }
    }
    public var settingText: String? { String(self) }
}

extension Bool: SettingValue {
    public static func parse(_ raw: RawSetting) -> Result<Bool, SettingProblem> {
        if case .bool(let value) = raw { return .success(value) }
        switch raw.text.lowercased().trimmingCharacters(in: .whitespaces) {
        case "1", "true", "yes", "on": return .success(true)
        case "0", "false", "no", "off": return .success(false)
        default: return .failure(SettingProblem("expected true or false, got '\(raw.text)'"))
        }
    }
    public var settingText: String? { String(self) }
}

extension Optional: SettingValue where Wrapped: SettingValue {
    public static func parse(_ raw: RawSetting) -> Result<Wrapped?, SettingProblem> { Wrapped.parse(raw).map { $0 } }
    public var settingText: String? { self?.settingText }
}

/// A setting that takes one of named choices (`SOMA_HYBRID_FUSION`): given in any case, refused
/// with the list of choices.
public protocol SettingChoice: SettingValue, RawRepresentable<String>, CaseIterable {}

extension SettingChoice {
    public static func parse(_ raw: RawSetting) -> Result<Self, SettingProblem> {
        guard let value = Self(rawValue: raw.text.lowercased().trimmingCharacters(in: .whitespaces)) else {
            return .failure(SettingProblem("must be one of: \(allCases.map(\.rawValue).joined(separator: ", ")), got '\(raw.text)'"))
        }
        return .success(value)
    }
    public var settingText: String? { rawValue }
}

/// A comma-separated list (`SOMA_CORS_ORIGINS`, `SOMA_EMBED_FIELDS`): items trimmed, empty ones dropped.
public struct SettingList: SettingValue, Equatable {
    public var items: [String]
    public init(_ items: [String]) { self.items = items }

    public static func parse(_ raw: RawSetting) -> Result<SettingList, SettingProblem> {
        .success(SettingList(raw.text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }))
    }
    public var settingText: String? { items.isEmpty ? nil : items.joined(separator: ",") }
}

/// Settings a backend factory reads, by the service's variable names (`REDIS_URL`, `SOMA_VECTOR_DIM`).
/// The service backs it with its configuration reader; tests back it with a dictionary.
public struct BackendConfiguration: Sendable {
    private let lookup: @Sendable (String) -> RawSetting?

    public init(raw lookup: @escaping @Sendable (String) -> RawSetting?) {
        self.lookup = lookup
    }

    public init(lookup: @escaping @Sendable (String) -> String?) {
        self.lookup = { lookup($0).map(RawSetting.text) }
    }

    public init(_ values: [String: String]) {
        self.init { values[$0] }
    }

    /// The declared setting's value: its default when unset or empty; a value it refuses fails
    /// with the setting's name and why.
    public func value<Value>(_ setting: Setting<Value>) throws -> Value {
        guard let raw = raw(setting.name) else { return setting.defaultValue }
        let value: Value
        switch Value.parse(raw) {
        case .success(let parsed): value = parsed
        case .failure(let problem): throw BackendError.invalidSetting(name: setting.name, reason: problem.reason)
        }
        if let reason = setting.problem(value) { throw BackendError.invalidSetting(name: setting.name, reason: reason) }
        return value
    }

    /// True when the setting has a value (empty counts as unset).
    public func isSet<Value>(_ setting: Setting<Value>) -> Bool { raw(setting.name) != nil }

    /// A value by name, as text, for what lists or forwards settings without reading them.
    public func string(_ name: String) -> String? { raw(name)?.text }

    private func raw(_ name: String) -> RawSetting? {
        guard let raw = lookup(name) else { return nil }
        if case .text(let text) = raw, text.isEmpty { return nil }
        return raw
    }

    /// These values in place of the configured ones (the index generation the service found in storage).
    public func overriding(_ values: [String: String]) -> BackendConfiguration {
        let lookup = lookup
        return BackendConfiguration(raw: { name in values[name].map(RawSetting.text) ?? lookup(name) })
    }

    /// A vector collection's or table's name for the index generation the service found in storage:
    /// the configured name for generation 0, `<name>_g<N>` for the ones `soma reindex` builds.
    public func vectorCollection(_ base: String) throws -> String {
        let generation = try value(EmbeddingState.generation)
        return generation == 0 ? base : "\(base)_g\(generation)"
    }
}

/// A setting the service or a backend reads, as `soma config`, the redaction of logs and answers,
/// and the Helm chart's drift test know it: the untyped face of a `Setting`.
public struct SettingDescription: Sendable, Equatable {
    /// The environment-variable name (`REDIS_URL`).
    public let name: String
    /// The value used when it is unset, as text; nil when unset means "not used" or is computed.
    public let defaultValue: String?
    public let meaning: String
    /// Never printed or logged (URLs are shown with their password masked).
    public let isSecret: Bool

    public init(_ name: String, default defaultValue: String? = nil, secret: Bool = false, _ meaning: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.meaning = meaning
        self.isSecret = secret
    }
}
