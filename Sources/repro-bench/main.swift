import ArgumentParser

// Entry point only: the commands live in their own files (see ReproBenchCommand).

/// Runs the root command through its async entry point: in top-level code `ReproBenchCommand.main()`
/// resolves to the synchronous `main`, which cannot run the async subcommands.
func runAsync<Command: AsyncParsableCommand>(_: Command.Type) async {
    await Command.main(nil)
}

await runAsync(ReproBenchCommand.self)
