// Retention by calendar: restic's `forget` rules, with restic's meaning
// (internal/restic/snapshot_policy.go), over restore points. Pure: points in,
// one decision per point out, with the rules that kept it, so prune's
// dry-run table and its deletions come from the same evaluation.
//
// restic's rules, restated: points are walked newest first. `last N` keeps
// the N newest. Each calendar rule (hourly, daily, weekly, monthly, yearly)
// keeps a point whose bucket (its local hour, day, ISO week, month or year)
// differs from the bucket of the last point that rule kept, while the rule
// has counts left; so each bucket keeps its newest point, counting back from
// the newest. The oldest point is also kept by every rule with counts left
// (restic: "maximizes the history length kept"). `within D` keeps every point
// strictly after (newest - D); `within-daily D` and friends keep the newest
// point of each bucket among those. A count of -1 means unlimited.
import { UsageError } from "../errors.ts";
import { daysFromCivil, localtime, type TimeZone } from "../time/zone.ts";

/** restic's Duration: calendar years, months, days, then hours. */
export interface Duration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

export const ZERO_DURATION: Duration = { years: 0, months: 0, days: 0, hours: 0 };

export type CalendarRule = "hourly" | "daily" | "weekly" | "monthly" | "yearly";
export const CALENDAR_RULES: CalendarRule[] = ["hourly", "daily", "weekly", "monthly", "yearly"];

export interface RetentionPolicy {
  /** Counts: 0 (or absent) is off, -1 unlimited. */
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Keep every point within this duration of the newest. */
  within?: Duration;
  /** Keep the newest point of each bucket within this duration of the newest. */
  withinHourly?: Duration;
  withinDaily?: Duration;
  withinWeekly?: Duration;
  withinMonthly?: Duration;
  withinYearly?: Duration;
  /** dsbackup's own rule: points whose chain starts from one of the N newest full backups. */
  full?: number;
}

export interface PolicyPoint {
  seq: number;
  /** Snapshot time, epoch seconds. */
  timestamp: number;
  /** Sequence of the full backup this point's chain starts from (for `full`). */
  fullSeq?: number;
}

export interface PointDecision {
  seq: number;
  timestamp: number;
  keep: boolean;
  /** restic's reason texts, in restic's order: "within 7d", "last snapshot", "daily snapshot", ..., "daily within 7d"; then "full backup". */
  reasons: string[];
}

export interface ApplyOptions {
  zone: TimeZone;
  /** Epoch seconds; like restic, points not before now do not count as the newest for `within`. */
  now: number;
}

const isZero = (d: Duration | undefined) => !d || (d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0);

/** True when no rule is given: prune refuses rather than keep (or delete) everything. */
export function isEmptyPolicy(p: RetentionPolicy): boolean {
  const counts = [p.last, p.hourly, p.daily, p.weekly, p.monthly, p.yearly, p.full];
  const durations = [p.within, p.withinHourly, p.withinDaily, p.withinWeekly, p.withinMonthly, p.withinYearly];
  return counts.every((c) => !c) && durations.every(isZero);
}

/**
 * Parse `2y5m7d3h` as restic does: number-unit pairs in any order, a later
 * unit replacing an earlier one, surrounding blanks ignored. Deliberately
 * stricter than restic: negative numbers (restic keeps nothing by them)
 * and an empty string are refused, since prune deletes on this answer.
 */
export function parseDuration(text: string, option = "--keep-within"): Duration {
  const s = text.trim();
  const d = { ...ZERO_DURATION };
  if (s === "") throw new UsageError(`${option} needs a duration such as 2y5m7d3h, not an empty string`);
  const re = /(\d{1,6})([ymdh])/y;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) {
      const rest = s.slice(at);
      const why = /^\d+$/.test(rest) ? `no unit after number ${rest}` : /^\d+/.test(rest) ? `invalid unit after number ${/^\d+/.exec(rest)![0]}` : "expected a number";
      throw new UsageError(`${option}: invalid duration ${JSON.stringify(text)}: ${why} (units y, m, d, h, e.g. 2y5m7d3h)`);
    }
    const n = Number(m[1]);
    if (m[2] === "y") d.years = n;
    else if (m[2] === "m") d.months = n;
    else if (m[2] === "d") d.days = n;
    else d.hours = n;
    at = re.lastIndex;
  }
  return d;
}

/** restic's spelling: `2y5m7d3h`, zero parts left out. */
export function formatDuration(d: Duration): string {
  return `${d.years ? `${d.years}y` : ""}${d.months ? `${d.months}m` : ""}${d.days ? `${d.days}d` : ""}${d.hours ? `${d.hours}h` : ""}`;
}

/** A keep count: a whole number, or `unlimited` (restic's word) for -1. */
export function parseCount(text: string, option: string): number {
  if (text === "unlimited") return -1;
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`${option} must be a whole number or "unlimited", not ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Go's time.AddDate in a zone, then minus hours: the wall clock fields are
 * shifted and normalised (Jan 31 + 1 month is Mar 3, or Mar 2 in a leap
 * year), and the wall time is mapped back to an instant as Go's time.Date
 * does (offset at the wall time read as UTC, corrected once).
 */
export function pastTime(latest: number, d: Duration, zone: TimeZone): number {
  const tm = localtime(zone, latest);
  const month0 = tm.month - 1 - d.months;
  const year = tm.year - d.years + Math.floor(month0 / 12);
  const month = ((month0 % 12) + 12) % 12;
  const wall = (daysFromCivil(year, month + 1, 1) + tm.day - 1 - d.days) * 86400 + tm.hour * 3600 + tm.minute * 60 + tm.second;
  const first = zone.ruleAt(wall).offset;
  const offset = zone.ruleAt(wall - first).offset;
  return wall - offset - d.hours * 3600;
}

/** ISO 8601 week-numbering year and week of a civil date. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const days = daysFromCivil(year, month, day);
  const mondayBased = (((days + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday: 0 = Monday
  const thursday = days - mondayBased + 3;
  const y = localYear(thursday);
  return { year: y, week: Math.floor((thursday - daysFromCivil(y, 1, 1)) / 7) + 1 };
}

function localYear(days: number): number {
  // The year holding a day number: Jan 1 of the guessed year is at or before it.
  let y = Math.floor(days / 365.2425) + 1970;
  while (daysFromCivil(y, 1, 1) > days) y--;
  while (daysFromCivil(y + 1, 1, 1) <= days) y++;
  return y;
}

/** The bucket of an instant for a calendar rule, as restic's ymdh/ymd/yw/ym/y integers. */
export function bucketOf(rule: CalendarRule, epochSec: number, zone: TimeZone): number {
  const t = localtime(zone, epochSec);
  switch (rule) {
    case "hourly": return ((t.year * 100 + t.month) * 100 + t.day) * 100 + t.hour;
    case "daily": return (t.year * 100 + t.month) * 100 + t.day;
    case "weekly": { const w = isoWeek(t.year, t.month, t.day); return w.year * 100 + w.week; }
    case "monthly": return t.year * 100 + t.month;
    case "yearly": return t.year;
  }
}

const WITHIN_KEYS: Record<CalendarRule, keyof RetentionPolicy> = {
  hourly: "withinHourly",
  daily: "withinDaily",
  weekly: "withinWeekly",
  monthly: "withinMonthly",
  yearly: "withinYearly",
};

/**
 * Decide every point. The result is newest first (restic's order; equal
 * times: the higher sequence first, since it was written later).
 */
export function applyPolicy(points: PolicyPoint[], policy: RetentionPolicy, opts: ApplyOptions): PointDecision[] {
  const list = [...points].sort((a, b) => b.timestamp - a.timestamp || b.seq - a.seq);
  if (list.length === 0) return [];
  // restic's findLatestTimestamp: the newest time that is before now.
  let latest: number | undefined;
  for (const p of list) if (p.timestamp < opts.now && (latest === undefined || p.timestamp > latest)) latest = p.timestamp;
  const since = (d: Duration) => (latest === undefined ? -Infinity : pastTime(latest, d, opts.zone));

  const counted = [
    { count: policy.last ?? 0, bucket: (_t: number, nr: number) => nr, reason: "last snapshot" },
    ...CALENDAR_RULES.map((rule) => ({ count: policy[rule] ?? 0, bucket: (t: number) => bucketOf(rule, t, opts.zone), reason: `${rule} snapshot` })),
  ].map((b) => ({ ...b, last: undefined as number | undefined }));
  const withins = CALENDAR_RULES.flatMap((rule) => {
    const d = policy[WITHIN_KEYS[rule]] as Duration | undefined;
    return isZero(d) ? [] : [{ rule, since: since(d!), reason: `${rule} within ${formatDuration(d!)}`, last: undefined as number | undefined }];
  });
  const withinAll = isZero(policy.within) ? undefined : since(policy.within!);
  const fulls = [...new Set(list.flatMap((p) => (p.fullSeq === undefined ? [] : [p.fullSeq])))].sort((a, b) => b - a);
  const keptFulls = policy.full ? new Set(policy.full < 0 ? fulls : fulls.slice(0, policy.full)) : new Set<number>();

  return list.map((p, nr) => {
    const reasons: string[] = [];
    if (withinAll !== undefined && p.timestamp > withinAll) reasons.push(`within ${formatDuration(policy.within!)}`);
    for (const b of counted) {
      if (b.count > 0 || b.count === -1) {
        const val = b.bucket(p.timestamp, nr);
        if (val !== b.last || nr === list.length - 1) {
          b.last = val;
          if (b.count > 0) b.count--;
          reasons.push(b.reason);
        }
      }
    }
    for (const w of withins) {
      if (p.timestamp > w.since) {
        const val = bucketOf(w.rule, p.timestamp, opts.zone);
        if (val !== w.last) {
          w.last = val;
          reasons.push(w.reason);
        }
      }
    }
    if (p.fullSeq !== undefined && keptFulls.has(p.fullSeq)) reasons.push("full backup");
    return { seq: p.seq, timestamp: p.timestamp, keep: reasons.length > 0, reasons };
  });
}

/** restic's summary of a policy: "keep 7 daily, 5 weekly snapshots and all snapshots within 2y of the newest". */
export function describePolicy(p: RetentionPolicy): string {
  const counts: [number | undefined, string][] = [[p.last, "latest"], [p.hourly, "hourly"], [p.daily, "daily"], [p.weekly, "weekly"], [p.monthly, "monthly"], [p.yearly, "yearly"]];
  const keeps = counts.flatMap(([n, what]) => (n && n > 0 ? [`${n} ${what}`] : n === -1 ? [`all ${what}`] : []));
  const parts: string[] = [];
  if (keeps.length) parts.push(`${keeps.join(", ")} snapshots`);
  for (const rule of CALENDAR_RULES) {
    const d = p[WITHIN_KEYS[rule]] as Duration | undefined;
    if (!isZero(d)) parts.push(`${rule} snapshots within ${formatDuration(d!)}`);
  }
  let s = parts.join(", ");
  if (!isZero(p.within)) s += `${s ? " and " : ""}all snapshots within ${formatDuration(p.within!)} of the newest`;
  if (p.full) s += `${s ? " and " : ""}every point of the ${p.full < 0 ? "" : `${p.full} `}newest full backups`;
  return `keep ${s}`;
}
