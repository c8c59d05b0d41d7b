/** Errors the CLI turns into exit codes: 1 for a failure, 2 for bad usage. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** A log file with the story (another process's: `reprise up`'s worker), named after the line. */
    readonly details?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad flag or argument: names it and says what was expected. Exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
