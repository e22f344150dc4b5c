import ArgumentParser

@main
struct Soma: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soma",
        abstract: "SomaFractalMemory: long-term memory for AI agents.",
        subcommands: [Serve.self, Consume.self, Migrate.self, MigrateFromOriginal.self, Reindex.self, Doctor.self, Version.self, ShowConfig.self, StoreCommand.self, RecallCommand.self, ExportCommand.self, ImportCommand.self, StatsCommand.self, MCPCommand.self, ANNBench.self, EmbedderBench.self],
        defaultSubcommand: Serve.self)
}
