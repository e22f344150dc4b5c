import Foundation
import PackagePlugin

/// Embeds the web console's files in the binary: the target's `Console/assets` and d3 with its
/// licence from Debian's `node-d3` package (installed by scripts/install-deps.sh, not committed).
@main
struct EmbedConsoleAssets: BuildToolPlugin {
    static let d3 = URL(filePath: "/usr/share/nodejs/d3/dist/d3.min.js")
    static let d3Licence = URL(filePath: "/usr/share/doc/node-d3/copyright")

    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let directory = target.directoryURL.appending(path: "Console/assets")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path()).filter { !$0.hasPrefix(".") }.sorted()
        var files = names.map { (name: $0, url: directory.appending(path: $0)) }
        for vendored in [Self.d3, Self.d3Licence] where !FileManager.default.fileExists(atPath: vendored.path()) {
            Diagnostics.error("\(vendored.path()) is missing: install Debian's node-d3 (scripts/install-deps.sh --build-only)")
        }
        files += [("vendor/d3.min.js", Self.d3), ("vendor/d3.LICENSE.txt", Self.d3Licence)]
        let output = context.pluginWorkDirectoryURL.appending(path: "ConsoleAssets.swift")
        return [
            .buildCommand(
                displayName: "Embedding the console's \(files.count) files",
                executable: try context.tool(named: "embed-assets").url,
                arguments: [output.path()] + files.map { "\($0.name)=\($0.url.path())" },
                inputFiles: files.map(\.url),
                outputFiles: [output])
        ]
    }
}
