import SomaCore

/// How the file cache registers itself: its name, the one setting it reads, when it is chosen
/// without `SOMA_CACHE` naming it, and where it keeps its data. `soma config`, the redaction of
/// secrets, the start-up log and the choice of backends all read this; nothing else needs editing.
public enum FileCacheBackend {
    public static let name = "filecache"

    /// The one declaration of its setting: it describes it and reads it.
    public static let directory = Setting<String?>("FILECACHE_DIR", "Selects the file cache: the directory that holds one file per cached entry")

    public static let description = BackendDescription(
        name: name,
        settings: [directory],
        // Above Redis (100): with both configured, the file cache is the one chosen.
        automatic: [.whenSet(directory, priority: 150)],
        location: { configuration in (try? configuration.value(directory)).flatMap { $0 } ?? "no directory set" })

    @Sendable public static func register(into registry: inout BackendRegistry) {
        registry.registerCache(description) { configuration in
            guard let directory = try configuration.value(directory) else {
                throw BackendError.invalidSetting(name: Self.directory.name, reason: "the file cache needs a directory")
            }
            // Nothing runs beside a file cache; a backend with a pool or a loop lists it here as a
            // `Service` (`CloseAtShutdown { ... }` for what only needs closing at the end).
            return Provisioned(try FileCache(directory: directory))
        }
    }
}
