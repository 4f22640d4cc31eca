// What every command gets from the entry point, so commands never reach for
// process globals and tests can pin the clock and capture output.
export interface CommandContext {
  env: Record<string, string | undefined>;
  now: () => Date;
  signal: AbortSignal;
  /** Progress and informational messages (stderr). */
  log: (message: string) => void;
  /** Warnings (stderr, never silenced by -q). */
  warn: (message: string) => void;
  stdout: (text: string) => void;
  /** Raw stderr, for the progress line. */
  writeStderr: (text: string) => void;
  /** stderr is a terminal: show progress. */
  isTerminal: boolean;
  /** stdout is a terminal: never write an archive there. */
  stdoutIsTerminal: boolean;
  /**
   * Route SIGINT/SIGTERM to `handler` instead of aborting `signal`, until the
   * returned function is called (the snapshot tool forwards them to COMMAND).
   */
  interceptSignals?: (handler: (signal: NodeJS.Signals) => void) => () => void;
}
