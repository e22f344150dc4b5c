import ArgumentParser
import Foundation
import SomaCore

struct Soma: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soma",
        abstract: "SomaFractalMemory: long-term memory for AI agents.",
        discussion: "Add --verbose to any command to see the full underlying error of a failure.",
        version: "soma \(Version.value)",
        subcommands: commands,
        defaultSubcommand: Serve.self)

    /// Commands that need an optional backend exist in builds with its trait.
    private static var commands: [any ParsableCommand.Type] {
        var commands: [any ParsableCommand.Type] = [Serve.self, Consume.self, Migrate.self]
        #if Postgres
        commands.append(MigrateFromOriginal.self)
        #endif
        commands += [
            Reindex.self, Doctor.self, Version.self, ShowConfig.self, StoreCommand.self, RecallCommand.self, ExportCommand.self,
            ImportCommand.self, StatsCommand.self, MCPCommand.self, ANNBench.self,
        ]
        #if MiniLM
        commands.append(EmbedderBench.self)
        #endif
        return commands + [RedisBench.self, WordsCommand.self]
    }
}

/// The `soma` command, for `soma` itself and for programs that build it with backends of their own
/// (examples/custom-backend): they register theirs, then run the command line.
public enum SomaCommandLine {
    /// Runs `soma` with the built-in backends and `register`'s: its backends are chosen, listed,
    /// described and redacted exactly as the built-in ones.
    public static func main(registering register: @escaping @Sendable (inout BackendRegistry) -> Void = { _ in }) async {
        Backends.extend(register)
        do {
            var command = try Soma.parseAsRoot(CommandLine.arguments.dropFirst().filter { $0 != Verbosity.flag })
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let failure as PlainFailure {
            // Our own words, without ArgumentParser's usage text: the command line was right.
            FileHandle.standardError.write(Data("soma: \(failure)\n".utf8))
            Foundation.exit(1)
        } catch {
            Soma.exit(withError: error)
        }
    }
}
