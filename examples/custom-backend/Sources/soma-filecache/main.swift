import FileCache
import SomaCommands

// `soma` with the built-in backends of the traits Package.swift names, and the file cache: `soma-filecache serve`, `config`, `doctor`...
await SomaCommandLine.main(registering: FileCacheBackend.register)
