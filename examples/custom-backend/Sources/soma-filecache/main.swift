import FileCache
import SomaCommands

// `soma` with every built-in backend and the file cache: `soma-filecache serve`, `config`, `doctor`...
await SomaCommandLine.main(registering: FileCacheBackend.register)
