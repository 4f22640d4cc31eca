#!/usr/bin/env bun
// Entry point: the command line (parsed against src/command-line/spec.ts) and the one place where errors become an
// exit status and a single line on stderr.
import { DsError, ExitCode, InterruptedError, UsageError } from "./errors.ts";
import { backupCommand } from "./commands/backup.ts";
import { listCommand } from "./commands/list.ts";
import { pruneCommand } from "./commands/prune.ts";
import { restoreCommand } from "./commands/restore.ts";
import { verifyCommand } from "./commands/verify.ts";
import { DateUsageError, runDate } from "./commands/date.ts";
import { snapshotCommand } from "./commands/snapshot.ts";
import { statusCommand } from "./commands/status.ts";
import { rebuildIndexCommand } from "./commands/rebuild-index.ts";
import { manCommand } from "./commands/man.ts";
import { completeCommand, completionCommand } from "./commands/completion.ts";
import { copyCommand } from "./commands/copy.ts";
import { InvalidDateError } from "./time/parse.ts";
import type { CommandContext } from "./commands/context.ts";
import { versionLine } from "./version.ts";
import { parseCommandLine, type ParsedCommandLine } from "./command-line/parse.ts";
import { commandHelp, mainHelp } from "./command-line/help.ts";

const PROGRAM = "dsbackup";

type Handler = (parsed: ParsedCommandLine, ctx: CommandContext) => Promise<number>;

/** Each command of the description, to the function that runs it. */
const HANDLERS: Record<string, Handler> = {
  backup: (p, ctx) => backupCommand(p.words, p.options, ctx),
  list: (p, ctx) => listCommand(p.options, ctx),
  restore: (p, ctx) => restoreCommand(p.options, ctx),
  verify: (p, ctx) => verifyCommand(p.words, p.options, ctx),
  prune: (p, ctx) => pruneCommand(p.options, ctx),
  status: (p, ctx) => statusCommand(p.options, ctx),
  "rebuild-index": (p, ctx) => rebuildIndexCommand(p.options, ctx),
  copy: (p, ctx) => copyCommand(p.options, ctx),
  snapshot: (p, ctx) => snapshotCommand(p.passthrough, ctx),
  date: (p, ctx) => runDate(p.passthrough, { stdout: ctx.stdout, env: ctx.env, warn: ctx.warn }),
  man: (_p, ctx) => manCommand(ctx),
  completion: (p, ctx) => completionCommand(p.words, ctx),
  __complete: (p, ctx) => completeCommand(p.words, p.options, ctx),
};

export async function run(argv: string[], ctx: CommandContext): Promise<number> {
  // The whole line is checked against the description before anything runs.
  const parsed = parseCommandLine(argv);
  if (parsed.help) {
    ctx.stdout(parsed.command ? commandHelp(parsed.command) : mainHelp());
    return ExitCode.ok;
  }
  if (parsed.version) {
    ctx.stdout(`${versionLine()}\n`);
    return ExitCode.ok;
  }
  const handler = HANDLERS[parsed.command!.name];
  if (!handler) throw new UsageError(`${parsed.command!.name}: not available in this build`);
  return handler(parsed, ctx);
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  let firstSignalAt = 0;
  let intercept: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (intercept) return intercept(signal);
    interrupts++;
    // A second signal stops at once; but one arriving within a second of the
    // first is a duplicate: under `dsbackup snapshot` a Ctrl-C reaches us both
    // from the terminal and forwarded by the snapshot tool.
    if (interrupts > 1 && Date.now() - firstSignalAt > 1000) process.exit(ExitCode.interrupted);
    if (interrupts === 1) firstSignalAt = Date.now();
    controller.abort(new InterruptedError(`interrupted by ${signal}; nothing was committed`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const ctx: CommandContext = {
    env: process.env,
    now: () => new Date(),
    signal: controller.signal,
    log: (m) => process.stderr.write(`${m}\n`),
    warn: (m) => process.stderr.write(`${PROGRAM}: warning: ${m}\n`),
    stdout: (t) => process.stdout.write(t),
    writeStderr: (t) => process.stderr.write(t),
    isTerminal: Boolean(process.stderr.isTTY),
    stdoutIsTerminal: Boolean(process.stdout.isTTY),
    interceptSignals: (handler) => {
      intercept = handler;
      return () => {
        if (intercept === handler) intercept = undefined;
      };
    },
  };
  try {
    return await run(argv, ctx);
  } catch (err) {
    // A signal's own message replaces only errors the abort caused; a real
    // failure (say, an fsync error after the index line was written) is
    // reported as itself, with what it says was committed.
    const causedByAbort = controller.signal.aborted && (err instanceof InterruptedError || !(err instanceof DsError));
    return reportError(causedByAbort ? (controller.signal.reason as Error) : err);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** The single mapping from an error to stderr and an exit status. */
export function reportError(err: unknown): number {
  // One line, and no control characters from hostile input (terminal escapes, carriage returns).
  const oneLine = (s: string) =>
    s
      .replace(/\s*\n\s*/g, " ")
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
      .trim();
  if (err instanceof DsError) {
    process.stderr.write(`${PROGRAM}: ${oneLine(err.message)}\n`);
    return err.exitCode;
  }
  if (err instanceof InvalidDateError) {
    process.stderr.write(`${PROGRAM}: ${oneLine(err.message)}\n`);
    return ExitCode.failure; // as GNU date does
  }
  if (err instanceof DateUsageError) {
    process.stderr.write(`${PROGRAM}: date: ${oneLine(err.message)}\n`);
    return ExitCode.usage;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${PROGRAM}: internal error: ${oneLine(message)}\n`);
  if (process.env.DSBACKUP_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return ExitCode.failure;
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
