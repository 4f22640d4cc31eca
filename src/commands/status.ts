// `dsbackup status (--storage DIR | --backups DIR) [--prefix P] [--max-age DURATION] [--json | --nagios] [--metrics-file FILE]`:
// what a monitoring system needs to know about the backups, and exit 15
// when the newest restorable point is older than --max-age.
import { ExitCode, UsageError } from "../errors.ts";
import { humanSize } from "../human-size.ts";
import { computeStatus, formatAge, formatNagios, type StatusReport } from "../monitoring/status.ts";
import { readVerifyRecord } from "../monitoring/verify-record.ts";
import { parseDuration } from "../retention/policy.ts";
import { choosePrefix } from "../restore/catalog.ts";
import { chainTo } from "../restore/plan.ts";
import { openStorage, readU64File } from "../storage/home.ts";
import { formatTid } from "../storage/records.ts";
import { resolveZone } from "../time/zone.ts";
import { isoTime, json, openCatalog, showTime, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";
import { withRunMetrics, type RunMetrics } from "./run-metrics.ts";

export interface StatusCommandOptions extends FolderOptions {
  /** `--max-age DURATION`: exit 15 when the newest restorable point is older than DURATION (restic's units y, m, d, h: `26h`, `1d12h`); default: no limit. */
  maxAge?: string;
  /** `--json`: print the report as one JSON document. */
  json?: boolean;
  /** `--nagios`: print one Nagios plugin line and exit as a plugin does (0 OK, 1 WARNING, 2 CRITICAL). */
  nagios?: boolean;
  /** `--metrics-file FILE`: merge this run's metrics into FILE (Prometheus text format), replaced atomically. */
  metricsFile?: string;
  quiet?: boolean;
}

export function statusCommand(options: StatusCommandOptions, ctx: CommandContext): Promise<number> {
  return withRunMetrics(options.metricsFile, "status", ctx, (metrics) => status(options, ctx, metrics));
}

async function status(options: StatusCommandOptions, ctx: CommandContext, metrics: RunMetrics): Promise<number> {
  if (options.json && options.nagios) throw new UsageError("give --json or --nagios, not both");
  const maxAge = options.maxAge === undefined ? undefined : parseDuration(String(options.maxAge), "--max-age");
  const catalog = await openCatalog(options, ctx);
  const prefix = choosePrefix(catalog, options.prefix);
  metrics.prefixes.push(prefix);
  // The storage's newest transaction, when we have the storage: how much the newest backup lacks.
  const storageTid = options.storage === undefined ? undefined : readU64File(openStorage(String(options.storage)), "x.serial", false);
  const now = Math.floor(ctx.now().getTime() / 1000);
  const report = computeStatus({
    prefix,
    entries: catalog.entries,
    archives: catalog.archives,
    unindexed: catalog.unindexed.map((a) => a.name),
    missing: catalog.missing,
    // One place to follow references across prefixes when restore planning does.
    chainOf: (p, seq) => chainTo(catalog.archives, seq, p),
    now,
    zone: resolveZone(ctx.env.TZ),
    storageTid,
    verified: await readVerifyRecord(catalog.location, ctx.warn),
    maxAge,
  });
  metrics.values = reportMetrics(report, catalog.archives, prefix);
  const exitStatus = report.maxAge?.tooOld ? ExitCode.tooOld : ExitCode.ok;
  if (options.nagios) {
    const n = formatNagios(report);
    ctx.stdout(`${n.line}\n`);
    return n.status;
  }
  ctx.stdout(options.json ? json({ backups: catalog.dir, ...reportJson(report) }) : statusText(report, catalog.dir, ctx));
  if (exitStatus === ExitCode.tooOld && !options.json) {
    ctx.warn(report.newest ? `newest restorable point ${report.newest.seq} is ${formatAge(report.newest.ageSeconds)} old, older than ${report.maxAge!.limit}` : `no restorable point with prefix ${prefix}`);
  }
  return exitStatus;
}

/** The report's gauges (the run's own are added by withRunMetrics). */
function reportMetrics(r: StatusReport, archives: { prefix: string; size: number }[], prefix: string): RunMetrics["values"] {
  return {
    dsbackup_archive_bytes: archives.filter((a) => a.prefix === prefix).reduce((n, a) => n + a.size, 0),
    dsbackup_restorable_points: r.restorablePoints,
    dsbackup_newest_point_timestamp_seconds: r.newest?.timestamp,
    dsbackup_newest_point_tid_timestamp_seconds: r.newest?.tidTimestamp ?? undefined,
    dsbackup_last_verify_success: r.verify?.ok == null ? undefined : r.verify.ok ? 1 : 0,
  };
}

function pointJson(p: { seq: number; timestamp: number; tid: string; tidTimestamp: number | null }) {
  return { seq: p.seq, timestamp: p.timestamp, time: isoTime(p.timestamp), tid: p.tid, tidTime: p.tidTimestamp === null ? null : isoTime(p.tidTimestamp) };
}

/** The JSON form: the report with ISO times beside the epoch ones. */
export function reportJson(r: StatusReport) {
  return {
    prefix: r.prefix,
    restorablePoints: r.restorablePoints,
    oldest: r.oldest && pointJson(r.oldest),
    newest: r.newest && { ...pointJson(r.newest), ageSeconds: r.newest.ageSeconds, chain: r.newest.chain, chainBytes: r.newest.chainBytes },
    unindexedArchives: r.unindexed,
    missingArchives: r.missing,
    storage: r.storage && { tid: r.storage.tid, tidTime: r.storage.tidTimestamp === null ? null : isoTime(r.storage.tidTimestamp), lagSeconds: r.storage.lagSeconds },
    verify: r.verify && { ok: r.verify.ok, oldestCheck: r.verify.oldestCheck === null ? null : isoTime(r.verify.oldestCheck), failed: r.verify.failed, unverified: r.verify.unverified },
    maxAge: r.maxAge && { limit: r.maxAge.limit, cutoff: isoTime(r.maxAge.cutoff), tooOld: r.maxAge.tooOld },
  };
}

function statusText(r: StatusReport, dir: string, ctx: CommandContext): string {
  const lines = [`Backups ${dir}, prefix ${r.prefix}: ${r.restorablePoints} restorable point${r.restorablePoints === 1 ? "" : "s"}`];
  if (r.newest && r.oldest) {
    lines.push(`Newest: ${r.newest.seq}, taken ${showTime(r.newest.timestamp, ctx)} (${formatAge(r.newest.ageSeconds)} ago), tid ${r.newest.tid} (${formatTid(r.newest.tid)})`);
    lines.push(`  needs ${r.newest.chain.join(" ")} (${r.newest.chain.length} archive${r.newest.chain.length === 1 ? "" : "s"}, ${humanSize(r.newest.chainBytes)})`);
    lines.push(`Oldest: ${r.oldest.seq}, taken ${showTime(r.oldest.timestamp, ctx)}`);
  }
  if (r.storage) {
    lines.push(`Storage: newest tid ${r.storage.tid} (${formatTid(r.storage.tid)}); ${r.storage.lagSeconds === null ? "no backup of it" : r.storage.lagSeconds === 0 ? "the newest backup has every commit" : `the newest backup lacks ${r.storage.lagSeconds} s of commits`}`);
  }
  if (r.verify) {
    const v = r.verify;
    lines.push(`Verified: ${v.ok === true ? `yes, every archive of the newest chain (oldest check ${showTime(v.oldestCheck!, ctx)})` : v.ok === false ? `FAILED: ${v.failed.join(", ")}` : `not all: never verified ${v.unverified.join(", ")}`}`);
  } else if (r.newest) lines.push("Verified: no record (verify has not recorded a run here)");
  lines.push(`Unindexed archives: ${r.unindexed.length ? r.unindexed.join(", ") : "none"}`);
  lines.push(`Index entries without archives: ${r.missing.length ? r.missing.join(", ") : "none"}`);
  if (r.maxAge) lines.push(`Max age ${r.maxAge.limit}: ${r.maxAge.tooOld ? "TOO OLD" : "ok"}`);
  return `${lines.join("\n")}\n`;
}
