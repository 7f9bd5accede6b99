// The two ways a `mlflow-gate` command fails, shared by the CLI and the libraries its commands use.

/** Wrong command line: exit 2 with one line and the help hint. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

/** Something went wrong doing what was asked (a pool, a file, a network call): exit 1 with one line per problem. */
export class CliFailure extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines[0] ?? "failed");
    this.name = "CliFailure";
  }
}
