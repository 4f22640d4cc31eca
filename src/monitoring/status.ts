// The state of a backups location, for `dsbackup status` and monitoring:
// restorable points, the newest one's age and chain, archives out of step
// with the index, how far the newest backup lags the storage, whether its
// chain verified, and the --max-age verdict. Pure: index entries, archive
// names and sizes, the verify record and "now" in; a report out.
import type { IndexEntry } from "../index/tindex.ts";
import { pastTime, type Duration, formatDuration } from "../retention/policy.ts";
import { restorablePoints, type ChainOf } from "../retention/select.ts";
import type { ArchiveName } from "../restore/plan.ts";
import { dateFromTid, ZERO_TID } from "../storage/records.ts";
import type { TimeZone } from "../time/zone.ts";
import type { VerifyRecord } from "./verify-record.ts";

export interface SizedArchive extends ArchiveName {
  size: number;
}

export interface StatusInput {
  prefix: string;
  entries: IndexEntry[];
  archives: SizedArchive[];
  /** Archive names whose sequence has no index entry. */
  unindexed: string[];
  /** Index entries no archive ends at (streamed and pruned-reference lines excepted). */
  missing: IndexEntry[];
  chainOf: ChainOf;
  /** Epoch seconds. */
  now: number;
  zone: TimeZone;
  /** The storage's newest transaction (A/x.serial), when the storage is at hand. */
  storageTid?: string;
  verified?: VerifyRecord;
  maxAge?: Duration;
}

export interface PointSummary {
  seq: number;
  timestamp: number;
  tid: string;
  /** Epoch seconds of the tid, null for an empty storage's zero tid. */
  tidTimestamp: number | null;
}

export interface StatusReport {
  prefix: string;
  restorablePoints: number;
  oldest: PointSummary | null;
  newest: (PointSummary & { ageSeconds: number; chain: string[]; chainBytes: number }) | null;
  unindexed: string[];
  missing: number[];
  storage: { tid: string; tidTimestamp: number | null; lagSeconds: number | null } | null;
  /**
   * The newest point's chain as verify last saw it: ok when every archive
   * verified clean at its present size, failed when one did not, null when
   * one was never verified (or not since it changed).
   */
  verify: { ok: boolean | null; oldestCheck: number | null; failed: string[]; unverified: string[] } | null;
  /** cutoff: the oldest acceptable snapshot time; seconds: now minus cutoff. */
  maxAge: { limit: string; cutoff: number; seconds: number; tooOld: boolean } | null;
}

const tidSeconds = (tid: string) => (tid === ZERO_TID ? null : Math.floor(dateFromTid(tid).getTime() / 1000));

function summary(e: IndexEntry): PointSummary {
  return { seq: e.seq, timestamp: e.timestamp, tid: e.tid, tidTimestamp: tidSeconds(e.tid) };
}

export function computeStatus(input: StatusInput): StatusReport {
  const points = restorablePoints(input.entries, input.archives, input.prefix, input.chainOf);
  const oldest = points[0];
  const newest = points.at(-1);
  const sizes = new Map(input.archives.map((a) => [a.name, a.size]));
  let newestReport: StatusReport["newest"] = null;
  let verify: StatusReport["verify"] = null;
  if (newest) {
    const chain = newest.chain.map((a) => a.name);
    newestReport = {
      ...summary(newest.entry),
      ageSeconds: input.now - newest.entry.timestamp,
      chain,
      chainBytes: chain.reduce((n, name) => n + (sizes.get(name) ?? 0), 0),
    };
    if (input.verified) {
      const failed: string[] = [];
      const unverified: string[] = [];
      const times: number[] = [];
      for (const name of chain) {
        const r = input.verified.archives[name];
        if (!r || r.size !== sizes.get(name)) unverified.push(name);
        else if (!r.ok) failed.push(name);
        else times.push(r.time);
      }
      verify = { ok: failed.length ? false : unverified.length ? null : true, oldestCheck: times.length ? Math.min(...times) : null, failed, unverified };
    }
  }
  let storage: StatusReport["storage"] = null;
  if (input.storageTid !== undefined) {
    const t = tidSeconds(input.storageTid);
    const have = newest ? tidSeconds(newest.entry.tid) : null;
    // Commits the newest backup lacks: from its newest transaction to the storage's (0 when they agree).
    const lag = t === null ? 0 : have === null ? null : input.storageTid <= newest!.entry.tid ? 0 : t - have;
    storage = { tid: input.storageTid, tidTimestamp: t, lagSeconds: lag };
  }
  let maxAge: StatusReport["maxAge"] = null;
  if (input.maxAge) {
    const cutoff = pastTime(input.now, input.maxAge, input.zone);
    maxAge = { limit: formatDuration(input.maxAge), cutoff, seconds: input.now - cutoff, tooOld: !newest || newest.entry.timestamp < cutoff };
  }
  return {
    prefix: input.prefix,
    restorablePoints: points.length,
    oldest: oldest ? summary(oldest.entry) : null,
    newest: newestReport,
    unindexed: input.unindexed,
    missing: input.missing.map((e) => e.seq),
    storage,
    verify,
    maxAge,
  };
}

/** `3d 4h`, `5h 12m`, `42s`: an age as a person reads it. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export const NAGIOS = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;

/**
 * One Nagios plugin line and its status: CRITICAL when the newest point is
 * older than --max-age (or there is none), WARNING when its chain failed
 * verification or archives are missing, else OK. Performance data: age,
 * restorable points, chain bytes, lag.
 */
export function formatNagios(r: StatusReport): { line: string; status: number } {
  const perf: string[] = [];
  let status: number = NAGIOS.ok;
  const problems: string[] = [];
  if (!r.newest) {
    status = NAGIOS.critical;
    problems.push(`no restorable point with prefix ${r.prefix}`);
  } else {
    perf.push(`age=${r.newest.ageSeconds}s${r.maxAge ? `;;${r.maxAge.seconds}` : ""}`);
    perf.push(`points=${r.restorablePoints}`, `chain_bytes=${r.newest.chainBytes}B`);
    if (r.storage?.lagSeconds != null) perf.push(`lag=${r.storage.lagSeconds}s`);
    if (r.maxAge?.tooOld) {
      status = NAGIOS.critical;
      problems.push(`newest point ${r.newest.seq} is ${formatAge(r.newest.ageSeconds)} old, older than ${r.maxAge.limit}`);
    }
    if (r.verify?.ok === false) {
      status = Math.max(status, NAGIOS.warning);
      problems.push(`verify failed: ${r.verify.failed.join(", ")}`);
    }
    if (r.missing.length) {
      status = Math.max(status, NAGIOS.warning);
      problems.push(`${r.missing.length} index entr${r.missing.length === 1 ? "y" : "ies"} without archives`);
    }
  }
  const word = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][status];
  const text = problems.length ? problems.join("; ") : `newest point ${r.newest!.seq} is ${formatAge(r.newest!.ageSeconds)} old, ${r.restorablePoints} restorable point${r.restorablePoints === 1 ? "" : "s"}`;
  return { line: `DSBACKUP ${word} - ${r.prefix}: ${text}${perf.length ? ` | ${perf.join(" ")}` : ""}`, status };
}
