import ArgumentParser
import ReproCLI

/// Runs the root command through its async entry point (the synchronous `main` cannot run async subcommands).
func runAsync<Command: AsyncParsableCommand>(_: Command.Type) async {
    await Command.main(nil)
}

await runAsync(ReproCommand.self)
