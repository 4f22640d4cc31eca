// `dsbackup --storage DIR [prefix NAME] full|inc WHEN ...`: the original tool.
import { DsError, BackupRefusedError, ExitCode, UsageError } from "../errors.ts";
import { parseBackupWords } from "../backup/plan.ts";
import { backupsDirectory, runBackup, showInstant, type BackupReport } from "../backup/run.ts";
import { summaryJson, summaryLines } from "../backup/summary.ts";
import { holdSnapshot, resolveHome, type SnapshotEnvironment, type SnapshotHold } from "../snapshot/session.ts";
import { retryWhileLocked } from "../snapshot/run-command.ts";
import { openStorage } from "../storage/home.ts";
import type { CommandContext } from "./context.ts";
import { progressLine } from "../backup/progress.ts";
import { json, openChecked } from "./backups-folder.ts";
import { withRunMetrics, type RunMetrics } from "./run-metrics.ts";
import { encryptionKey, type EncryptOptions } from "./keys.ts";

export interface BackupCommandOptions extends EncryptOptions {
  /** `--storage DIR`: the storage home (not needed under `dsbackup snapshot`). */
  storage?: string;
  /**
   * `--backups LOCATION`: where the archives and the index go, a folder or
   * s3://BUCKET/PATH (credentials from AWS_*). Default: HOME/backups, which
   * is then not needed.
   */
  backups?: string;
  /** `--or-full`: for inc, take a full backup when there is no reference backup (default off). */
  orFull?: boolean;
  /** `--output -`: write the single archive to standard output instead of backups/. */
  output?: string;
  /** `--level N`: gzip level 1-9 (default 6). */
  level?: number;
  /** `--jobs N`: compression workers, 1-64 (default: the number of cores). */
  jobs?: number;
  /** `-q, --quiet`: only warnings and errors on stderr (also hides the closing summary). */
  quiet?: boolean;
  /**
   * `--json`: print the run's summary as one JSON document on stdout, also when
   * it is refused or fails (then with the error and the exit status). Not with
   * `--output -`, whose stdout is the archive. Default off.
   */
  json?: boolean;
  /**
   * `--wait SECONDS`: keep retrying this long while the storage is locked or
   * busy (e.g. recombining after snapshot mode), sleeping SECONDS/10 (1 to 10 s)
   * between tries. Default 0: fail at once with exit 11.
   */
  wait?: number | string;
  /**
   * `--metrics-file FILE`: merge the run's metrics into FILE (Prometheus text
   * format): per prefix written, last success time, duration, exit status,
   * compressed archive bytes and files. Default: none.
   */
  metricsFile?: string;
}

function positiveInt(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** Seconds between tries for `--wait SECONDS`: a tenth of it, 1 to 10 s. */
export function waitSleepSeconds(wait: number): number {
  return Math.min(10, Math.max(1, Math.round(wait / 10)));
}

export function backupCommand(words: string[], options: BackupCommandOptions, ctx: CommandContext): Promise<number> {
  return withRunMetrics(options.metricsFile, "backup", ctx, (metrics) => backupReporting(words, options, ctx, metrics));
}

async function backupReporting(words: string[], options: BackupCommandOptions, ctx: CommandContext, metrics: RunMetrics): Promise<number> {
  if (options.json && options.output === "-") {
    throw new UsageError("--json and --output - both want standard output (it carries the archive); drop --json, the summary is on stderr");
  }
  const started = performance.now();
  const facts: RunFacts = { storage: null, metrics };
  if (!options.json) return backup(words, options, ctx, facts, started);
  // --json: one document whatever happens; the error line and exit status stay as without it.
  try {
    const status = await backup(words, options, ctx, facts, started);
    ctx.stdout(json(summaryJson({ ...facts, durationSeconds: (performance.now() - started) / 1000, exitStatus: status })));
    return status;
  } catch (err) {
    const exitStatus = err instanceof DsError ? err.exitCode : ExitCode.failure;
    const error = err instanceof Error ? err.message : String(err);
    ctx.stdout(json(summaryJson({ ...facts, durationSeconds: (performance.now() - started) / 1000, exitStatus, error })));
    throw err;
  }
}

/** What the run got to, for the JSON document of a run that stopped early. */
interface RunFacts {
  report?: BackupReport;
  storage: string | null;
  metrics: RunMetrics;
}

async function backup(words: string[], options: BackupCommandOptions, ctx: CommandContext, facts: RunFacts, started: number): Promise<number> {
  const env = ctx.env as SnapshotEnvironment;
  const zone = ctx.env.TZ; // TZ is not a snapshot variable: read it off the whole environment
  const level = positiveInt(options.level, "--level", 1, 9);
  const jobs = positiveInt(options.jobs, "--jobs", 1, 64);
  const wait = positiveInt(options.wait, "--wait", 0, 7 * 24 * 3600) ?? 0;
  if (options.output !== undefined && options.output !== "-") throw new UsageError("--output takes only '-' (standard output)");
  const now = ctx.now();
  const steps = parseBackupWords(words, now, zone);
  facts.metrics.prefixes.push(...steps.map((s) => s.prefix));
  if (options.output === "-") {
    if (steps.length !== 1) throw new UsageError("--output - writes one archive: give a single full or inc command");
    if (ctx.stdoutIsTerminal) throw new UsageError("--output - would write a compressed archive to the terminal; redirect or pipe it");
  }
  for (const step of steps) {
    if (step.kind === "inc" && step.whenSeconds * 1000 > now.getTime()) {
      ctx.warn(
        `inc ${JSON.stringify(step.when)} is in the future (${showInstant(step.whenSeconds, zone)}): ` +
          "every backup so far is before it, so the newest one is the reference",
      );
    }
  }
  // Key files are read (and refused) before the storage is touched.
  const encryption = await encryptionKey(options);
  const home = resolveHome(options.storage, env);
  facts.storage = home;
  const storage = openStorage(home); // refuse a non-storage before touching its lock
  const log = options.quiet ? () => {} : ctx.log;
  const sleepSeconds = waitSleepSeconds(wait);
  const hold: SnapshotHold = await retryWhileLocked(
    () =>
      holdSnapshot(home, env, {
        nowSeconds: () => Math.floor(ctx.now().getTime() / 1000),
        format: storage.format,
        log,
        warn: ctx.warn,
        signal: ctx.signal,
        retryHint: wait > 0 ? `still so after --wait ${wait} s` : "retry in a while, or give --wait SECONDS to keep retrying",
      }),
    {
      deadlineMs: Date.now() + wait * 1000,
      sleepMs: sleepSeconds * 1000,
      nowMs: () => Date.now(),
      signal: ctx.signal,
      onRetry: (err) => log(`Retrying in ${sleepSeconds} s (--wait ${wait}): ${err.message}`),
    },
  );
  let report: BackupReport | undefined;
  try {
    const location = await openChecked(options.backups ?? backupsDirectory(home), ctx);
    // One writer per location (a prune, another machine's backup); --wait covers it too.
    const lock = await retryWhileLocked(() => location.lock({ purpose: "backup", warn: ctx.warn }), {
      deadlineMs: Date.now() + wait * 1000,
      sleepMs: sleepSeconds * 1000,
      nowMs: () => Date.now(),
      signal: ctx.signal,
      onRetry: (err) => log(`Retrying in ${sleepSeconds} s (--wait ${wait}): ${err.message}`),
    });
    try {
      report = await runBackup({
        storage,
        location,
        timestamp: hold.timestamp,
        steps,
        orFull: options.orFull,
        outputFd: options.output === "-" ? 1 : undefined,
        encryption,
        zone,
        level,
        jobs,
        signal: ctx.signal,
        log,
        warn: ctx.warn,
        progress: ctx.isTerminal && !options.quiet ? { start: (_kind, expected) => progressLine(ctx.writeStderr, expected) } : undefined,
      });
      facts.report = report;
      for (const prefix of new Set(steps.map((s) => s.prefix))) {
        const written = report.archives.filter((a) => a.prefix === prefix);
        facts.metrics.prefixValues[prefix] = {
          dsbackup_archive_bytes: written.reduce((n, a) => n + a.compressedBytes, 0),
          dsbackup_files: written.reduce((n, a) => n + a.files, 0),
        };
      }
    } finally {
      await lock.release();
    }
  } finally {
    // A storage left stuck in snapshot mode must not pass as success; but a
    // backup error says more than the failure to leave that follows it.
    await hold.release().catch((err) => {
      if (report) throw err;
      ctx.warn((err as Error).message);
    });
  }
  for (const line of summaryLines(report, (performance.now() - started) / 1000)) log(line);
  if (report.refusals.length > 0) {
    // One line, said once; archives of the run's other commands were committed.
    const done = report.archives.length > 0 ? ` (written: ${report.archives.map((a) => a.name).join(", ")})` : "";
    throw new BackupRefusedError(`${report.refusals.join("; ")}${done}`);
  }
  return 0;
}
