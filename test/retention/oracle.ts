// A second implementation of restic's forget rules, for the tests: local
// times from Intl (not src/time), buckets as calendar strings, and each rule
// computed on its own as "the newest point of each of the N newest buckets,
// plus the oldest point while fewer than N buckets were used", then merged
// in restic's reason order.

export interface OracleDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

export interface OraclePolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  within?: OracleDuration;
  withinDaily?: OracleDuration;
  withinWeekly?: OracleDuration;
  withinMonthly?: OracleDuration;
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();
/** Wall clock fields of an instant in an IANA zone, from ICU. */
export function wall(zone: string, epochSec: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  let f = fmtCache.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    fmtCache.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(epochSec * 1000)).map((p) => [p.type, p.value]));
  return { y: Number(parts.year), mo: Number(parts.month), d: Number(parts.day), h: Number(parts.hour), mi: Number(parts.minute), s: Number(parts.second) };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function isoWeekString(y: number, mo: number, d: number): string {
  // The ISO year is the year of the week's Thursday.
  const date = new Date(Date.UTC(y, mo - 1, d));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const isoYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(isoYear, 0, 1)) / 86400000 + 1) / 7);
  return `${isoYear}-W${pad(week)}`;
}

function bucketString(rule: string, zone: string, t: number): string {
  const w = wall(zone, t);
  switch (rule) {
    case "hourly": return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}`;
    case "daily": return `${w.y}-${pad(w.mo)}-${pad(w.d)}`;
    case "weekly": return isoWeekString(w.y, w.mo, w.d);
    case "monthly": return `${w.y}-${pad(w.mo)}`;
    default: return `${w.y}`;
  }
}

/** Go's t.AddDate(-y, -m, -d).Add(-h hours) in a zone, via Date.UTC's normalisation. */
function goPast(zone: string, t: number, d: OracleDuration): number {
  const w = wall(zone, t);
  const wallSec = Date.UTC(w.y - d.years, w.mo - 1 - d.months, w.d - d.days, w.h, w.mi, w.s) / 1000;
  const offsetAt = (instant: number) => {
    const x = wall(zone, instant);
    return Date.UTC(x.y, x.mo - 1, x.d, x.h, x.mi, x.s) / 1000 - instant;
  };
  // Go's time.Date: the offset at the wall time read as UTC, then the offset at the instant that gives.
  const guess = offsetAt(wallSec);
  return wallSec - offsetAt(wallSec - guess) - d.hours * 3600;
}

const durText = (d: OracleDuration) => `${d.years ? `${d.years}y` : ""}${d.months ? `${d.months}m` : ""}${d.days ? `${d.days}d` : ""}${d.hours ? `${d.hours}h` : ""}`;

/** Seq -> reasons (absent: removed). Points newest first by time, then by seq. */
export function oracle(points: { seq: number; timestamp: number }[], policy: OraclePolicy, zone: string, now: number): Map<number, string[]> {
  const list = [...points].sort((a, b) => b.timestamp - a.timestamp || b.seq - a.seq);
  const reasons = new Map<number, string[]>();
  const add = (seq: number, why: string) => reasons.set(seq, [...(reasons.get(seq) ?? []), why]);
  const past = list.filter((p) => p.timestamp < now);
  const newest = past.length ? Math.max(...past.map((p) => p.timestamp)) : undefined;
  const within = (d: OracleDuration) => (p: { timestamp: number }) => newest === undefined || p.timestamp > goPast(zone, newest, d);

  const sets: [string, Set<number>][] = [];
  if (policy.within) sets.push([`within ${durText(policy.within)}`, new Set(list.filter(within(policy.within)).map((p) => p.seq))]);
  const counted = (n: number | undefined, key: (p: { seq: number; timestamp: number }) => string) => {
    const kept = new Set<number>();
    if (!n) return kept;
    const seen: string[] = [];
    for (const p of list.slice(0, -1)) {
      const k = key(p);
      if (seen.includes(k)) continue;
      if (n !== -1 && seen.length >= n) break;
      seen.push(k);
      kept.add(p.seq);
    }
    if (n === -1 || seen.length < n) kept.add(list.at(-1)!.seq);
    return kept;
  };
  if (policy.last) sets.push(["last snapshot", counted(policy.last, (p) => `#${p.seq}`)]);
  for (const rule of ["hourly", "daily", "weekly", "monthly", "yearly"] as const) {
    if (policy[rule]) sets.push([`${rule} snapshot`, counted(policy[rule], (p) => bucketString(rule, zone, p.timestamp))]);
  }
  for (const [rule, d] of [["daily", policy.withinDaily], ["weekly", policy.withinWeekly], ["monthly", policy.withinMonthly]] as const) {
    if (!d) continue;
    const firsts = new Map<string, number>();
    for (const p of list.filter(within(d))) {
      const k = bucketString(rule, zone, p.timestamp);
      if (!firsts.has(k)) firsts.set(k, p.seq);
    }
    sets.push([`${rule} within ${durText(d)}`, new Set(firsts.values())]);
  }
  for (const p of list) for (const [why, set] of sets) if (set.has(p.seq)) add(p.seq, why);
  return reasons;
}
