// `dsbackup --storage DIR [prefix NAME] full|inc WHEN ...`: the original tool.
import { basename } from "node:path";
import { BackupRefusedError, UsageError } from "../errors.ts";
import { parseBackupWords } from "../backup/plan.ts";
import { runBackup, type BackupReport } from "../backup/run.ts";
import { holdSnapshot, resolveHome, type SnapshotEnvironment } from "../snapshot/session.ts";
import { openStorage } from "../storage/home.ts";
import type { CommandContext } from "./context.ts";
import { progressLine } from "../backup/progress.ts";

export interface BackupCommandOptions {
  storage?: string;
  orFull?: boolean;
  output?: string;
  level?: number;
  jobs?: number;
  quiet?: boolean;
}

function positiveInt(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

export async function backupCommand(words: string[], options: BackupCommandOptions, ctx: CommandContext): Promise<number> {
  const env = ctx.env as SnapshotEnvironment;
  const level = positiveInt(options.level, "--level", 1, 9);
  const jobs = positiveInt(options.jobs, "--jobs", 1, 64);
  if (options.output !== undefined && options.output !== "-") throw new UsageError("--output takes only '-' (standard output)");
  const steps = parseBackupWords(words, ctx.now(), env.TZ);
  if (options.output === "-") {
    if (steps.length !== 1) throw new UsageError("--output - writes one archive: give a single full or inc command");
    if (ctx.stdoutIsTerminal) throw new UsageError("--output - would write a compressed archive to the terminal; redirect or pipe it");
  }
  const home = resolveHome(options.storage, env);
  const storage = openStorage(home); // refuse a non-storage before touching its lock
  const log = options.quiet ? () => {} : ctx.log;
  const hold = await holdSnapshot(home, env, {
    nowSeconds: () => Math.floor(ctx.now().getTime() / 1000),
    format: storage.format,
    log,
    warn: ctx.warn,
    signal: ctx.signal,
  });
  let report: BackupReport | undefined;
  try {
    report = await runBackup({
      storage,
      timestamp: hold.timestamp,
      steps,
      orFull: options.orFull,
      outputFd: options.output === "-" ? 1 : undefined,
      level,
      jobs,
      signal: ctx.signal,
      log,
      warn: ctx.warn,
      progress: ctx.isTerminal && !options.quiet ? { start: (_kind, expected) => progressLine(ctx.writeStderr, expected) } : undefined,
    });
  } finally {
    // A storage left stuck in snapshot mode must not pass as success; but a
    // backup error says more than the failure to leave that follows it.
    await hold.release().catch((err) => {
      if (report) throw err;
      ctx.warn((err as Error).message);
    });
  }
  if (report.refusals.length > 0) {
    // One line, said once; archives of the run's other commands were committed.
    const done = report.archives.length > 0 ? ` (written: ${report.archives.map((a) => basename(a.path)).join(", ")})` : "";
    throw new BackupRefusedError(`${report.refusals.join("; ")}${done}`);
  }
  return 0;
}
