import SomaCommands

await SomaCommandLine.main()
