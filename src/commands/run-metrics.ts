// `--metrics-file FILE` for backup, verify, prune and status: the command's
// own gauges plus its run (end time, duration, exit status, and the success
// time when it succeeded), merged into FILE when the command ends, whatever
// the outcome. Writing the file never changes the exit status: a failure to
// write it is a warning.
import { readFileSync } from "node:fs";
import { DsError, ExitCode } from "../errors.ts";
import { dsbackupGauges, parseMetrics, writeMetricsFile, type MetricName } from "../monitoring/metrics.ts";
import type { CommandContext } from "./context.ts";

/** What the command fills in as it learns it; read when it ends. */
export interface RunMetrics {
  /** The prefixes the run concerned: one set of samples each. */
  prefixes: string[];
  /** Values of every prefix's samples. */
  values: Partial<Record<MetricName, number>>;
  /** Values of one prefix's samples only (backup's bytes and files of each prefix it wrote). */
  prefixValues: Record<string, Partial<Record<MetricName, number>>>;
}

/**
 * Run `body`, then write its metrics to `file` (when given). A run that
 * stopped before it knew its prefix (an unmounted backups folder) updates
 * the run samples of every prefix this command wrote to FILE before, so the
 * failure is seen where the last success was.
 */
export async function withRunMetrics(
  file: string | undefined,
  command: string,
  ctx: CommandContext,
  body: (metrics: RunMetrics) => Promise<number>,
): Promise<number> {
  const metrics: RunMetrics = { prefixes: [], values: {}, prefixValues: {} };
  if (file === undefined) return body(metrics);
  const started = ctx.now().getTime();
  let status: number = ExitCode.failure;
  try {
    status = await body(metrics);
    return status;
  } catch (err) {
    status = ctx.signal.aborted ? ExitCode.interrupted : err instanceof DsError ? err.exitCode : ExitCode.failure;
    throw err;
  } finally {
    writeRun(file, command, metrics, started, status, ctx);
  }
}

function writeRun(file: string, command: string, m: RunMetrics, started: number, status: number, ctx: CommandContext): void {
  try {
    const end = ctx.now().getTime();
    const run: RunMetrics["values"] = {
      dsbackup_last_run_timestamp_seconds: Math.floor(end / 1000),
      dsbackup_last_run_duration_seconds: Math.max(0, end - started) / 1000,
      dsbackup_last_run_exit_status: status,
      dsbackup_last_success_timestamp_seconds: status === ExitCode.ok ? Math.floor(end / 1000) : undefined,
    };
    const prefixes = m.prefixes.length > 0 ? [...new Set(m.prefixes)] : earlierPrefixes(file, command);
    if (prefixes.length === 0) {
      ctx.warn(`${file}: no metrics written: the run stopped before it knew its prefix, and the file has none of ${command}'s`);
      return;
    }
    const values = (prefix: string) => (m.prefixes.length > 0 ? { ...m.values, ...m.prefixValues[prefix], ...run } : run);
    writeMetricsFile(file, prefixes.flatMap((prefix) => dsbackupGauges({ command, prefix }, values(prefix))), ctx.warn);
  } catch (err) {
    ctx.warn(`metrics not written to ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The prefixes of `command`'s samples already in the file (none when it is absent or unreadable). */
function earlierPrefixes(file: string, command: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  try {
    const labels = parseMetrics(text, file).flatMap((f) => f.samples.map((s) => s.labels));
    return [...new Set(labels.filter((l) => l.command === command && l.prefix !== undefined).map((l) => l.prefix!))].sort();
  } catch {
    return [];
  }
}
