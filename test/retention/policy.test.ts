// restic's forget rules: fixed cases, then a property comparison with an
// independent implementation (test/retention/oracle.ts) over simulated years
// of backups, many policies and time zones (DST ones included).
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors.ts";
import { applyPolicy, describePolicy, isoWeek, parseCount, parseDuration, pastTime, type RetentionPolicy } from "../../src/retention/policy.ts";
import { resolveZone, UTC_ZONE } from "../../src/time/zone.ts";
import { random } from "../fixtures/generator.ts";
import { oracle, type OraclePolicy } from "./oracle.ts";

const utc = (s: string) => Date.parse(`${s}Z`) / 1000;

describe("durations as restic writes them", () => {
  test("units in any order, later ones replace earlier ones, blanks trimmed", () => {
    expect(parseDuration("2y5m7d3h")).toEqual({ years: 2, months: 5, days: 7, hours: 3 });
    expect(parseDuration(" 3h1y ")).toEqual({ years: 1, months: 0, days: 0, hours: 3 });
    expect(parseDuration("1d2d")).toEqual({ years: 0, months: 0, days: 2, hours: 0 });
    expect(parseDuration("0d")).toEqual({ years: 0, months: 0, days: 0, hours: 0 });
  });
  test("anything else is a usage error", () => {
    for (const bad of ["", "7", "d", "7w", "-1d", "1.5d", "7 d", "7D", "1d x", "٣d"]) {
      expect(() => parseDuration(bad)).toThrow(UsageError);
    }
    expect(() => parseDuration("7")).toThrow("no unit after number 7");
    expect(() => parseDuration("7w")).toThrow("invalid unit after number 7");
  });
  test("counts: whole numbers or unlimited", () => {
    expect(parseCount("7", "--keep-daily")).toBe(7);
    expect(parseCount("unlimited", "--keep-daily")).toBe(-1);
    for (const bad of ["-1", "x", "1.5", ""]) expect(() => parseCount(bad, "--keep-daily")).toThrow(UsageError);
  });
});

describe("calendar arithmetic", () => {
  test("ISO weeks at year ends", () => {
    expect(isoWeek(2020, 12, 31)).toEqual({ year: 2020, week: 53 });
    expect(isoWeek(2021, 1, 3)).toEqual({ year: 2020, week: 53 });
    expect(isoWeek(2021, 1, 4)).toEqual({ year: 2021, week: 1 });
    expect(isoWeek(2024, 12, 30)).toEqual({ year: 2025, week: 1 });
    expect(isoWeek(2026, 12, 31)).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(2027, 1, 1)).toEqual({ year: 2026, week: 53 });
  });
  test("Go's AddDate normalises month ends: Mar 31 minus a month is Mar 3", () => {
    expect(pastTime(utc("2026-03-31T10:00:00"), { years: 0, months: 1, days: 0, hours: 0 }, UTC_ZONE)).toBe(utc("2026-03-03T10:00:00"));
    expect(pastTime(utc("2024-03-31T10:00:00"), { years: 0, months: 1, days: 0, hours: 0 }, UTC_ZONE)).toBe(utc("2024-03-02T10:00:00"));
    expect(pastTime(utc("2026-03-01T10:00:00"), { years: 2, months: 5, days: 7, hours: 3 }, UTC_ZONE)).toBe(utc("2023-09-24T07:00:00"));
  });
  test("days are calendar days in TZ: across the spring change a day is 23 hours", () => {
    const berlin = resolveZone("Europe/Berlin");
    // 2026-03-30 12:00 CEST minus 1d is 2026-03-29 12:00 CEST, 24 h earlier; minus 2d is 03-28 12:00 CET, 47 h earlier.
    const t = utc("2026-03-30T10:00:00");
    expect(t - pastTime(t, { years: 0, months: 0, days: 1, hours: 0 }, berlin)).toBe(24 * 3600);
    expect(t - pastTime(t, { years: 0, months: 0, days: 2, hours: 0 }, berlin)).toBe(47 * 3600);
  });
});

describe("applyPolicy", () => {
  const daily = (n: number, start = "2026-01-01T03:00:00") => Array.from({ length: n }, (_, i) => ({ seq: i + 1, timestamp: utc(start) + i * 86400 }));
  const opts = { zone: UTC_ZONE, now: utc("2030-01-01T00:00:00") };
  const kept = (ds: { seq: number; keep: boolean }[]) => ds.filter((d) => d.keep).map((d) => d.seq);

  test("keep-last and keep-daily with reasons, newest first", () => {
    const ds = applyPolicy(daily(10), { last: 2, daily: 3 }, opts);
    expect(ds.map((d) => d.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(ds.slice(0, 4).map((d) => d.reasons)).toEqual([["last snapshot", "daily snapshot"], ["last snapshot", "daily snapshot"], ["daily snapshot"], []]);
    expect(kept(ds)).toEqual([10, 9, 8]);
  });
  test("each bucket keeps its newest point; two backups a day keep the later", () => {
    const pts = daily(6).flatMap((p) => [{ seq: p.seq * 2 - 1, timestamp: p.timestamp }, { seq: p.seq * 2, timestamp: p.timestamp + 3600 }]);
    expect(kept(applyPolicy(pts, { daily: 3 }, opts))).toEqual([12, 10, 8]);
  });
  test("the oldest point is kept while a rule has counts left", () => {
    const pts = [{ seq: 1, timestamp: utc("2026-01-01T01:00:00") }, { seq: 2, timestamp: utc("2026-01-01T02:00:00") }];
    const ds = applyPolicy(pts, { daily: 5 }, opts);
    expect(ds.map((d) => [d.seq, d.reasons])).toEqual([[2, ["daily snapshot"]], [1, ["daily snapshot"]]]);
  });
  test("within is strictly after newest minus the duration", () => {
    const ds = applyPolicy(daily(10), { within: { years: 0, months: 0, days: 3, hours: 0 } }, opts);
    expect(kept(ds)).toEqual([10, 9, 8]);
    expect(ds[0]!.reasons).toEqual(["within 3d"]);
  });
  test("within counts from the newest point that is not in the future", () => {
    const ds = applyPolicy(daily(10), { within: { years: 0, months: 0, days: 2, hours: 0 } }, { zone: UTC_ZONE, now: utc("2026-01-08T12:00:00") });
    // Points 9 and 10 lie after now: newest is 8 (Jan 8 03:00); within 2d keeps after Jan 6 03:00.
    expect(kept(ds)).toEqual([10, 9, 8, 7]);
  });
  test("within-daily keeps the newest of each day inside the duration", () => {
    const pts = daily(5).flatMap((p) => [{ seq: p.seq * 2 - 1, timestamp: p.timestamp }, { seq: p.seq * 2, timestamp: p.timestamp + 60 }]);
    const ds = applyPolicy(pts, { withinDaily: { years: 0, months: 0, days: 2, hours: 0 } }, opts);
    expect(kept(ds)).toEqual([10, 8]);
    expect(ds[0]!.reasons).toEqual(["daily within 2d"]);
  });
  test("keep-full keeps the points of the N newest full backups' chains", () => {
    const pts = daily(10).map((p) => ({ ...p, fullSeq: p.seq >= 8 ? 8 : p.seq >= 4 ? 4 : 1 }));
    expect(kept(applyPolicy(pts, { full: 2 }, opts))).toEqual([10, 9, 8, 7, 6, 5, 4]);
  });
  test("policy summary in restic's words", () => {
    expect(describePolicy({ daily: 7, weekly: 5, monthly: 12, yearly: 3 })).toBe("keep 7 daily, 5 weekly, 12 monthly, 3 yearly snapshots");
    expect(describePolicy({ last: -1, within: { years: 1, months: 0, days: 0, hours: 2 } })).toBe("keep all latest snapshots and all snapshots within 1y2h of the newest");
  });
});

// ---------------------------------------------------------------- properties

/** One or several backups a day for a year from `start`, at varied times, some days missed. */
function simulatedYear(start: string, rand: () => number, perDay: number): { seq: number; timestamp: number }[] {
  const points: { seq: number; timestamp: number }[] = [];
  let seq = 0;
  for (let day = 0; day < 365; day++) {
    if (rand() < 0.05) continue;
    const times = Array.from({ length: perDay }, () => Math.floor(rand() * 86400)).sort((a, b) => a - b);
    for (const t of times) points.push({ seq: ++seq, timestamp: utc(start) + day * 86400 + t });
  }
  return points;
}

function randomPolicy(rand: () => number): RetentionPolicy & OraclePolicy {
  const count = () => (rand() < 0.1 ? -1 : 1 + Math.floor(rand() * 15));
  const dur = () => ({ years: rand() < 0.2 ? 1 : 0, months: Math.floor(rand() * 3), days: Math.floor(rand() * 20), hours: Math.floor(rand() * 30) });
  const p: RetentionPolicy & OraclePolicy = {};
  for (;;) {
    if (rand() < 0.3) p.last = count();
    if (rand() < 0.3) p.hourly = count();
    if (rand() < 0.5) p.daily = count();
    if (rand() < 0.5) p.weekly = count();
    if (rand() < 0.5) p.monthly = count();
    if (rand() < 0.3) p.yearly = count();
    if (rand() < 0.3) p.within = dur();
    if (rand() < 0.15) p.withinDaily = dur();
    if (rand() < 0.15) p.withinWeekly = dur();
    if (rand() < 0.15) p.withinMonthly = dur();
    // A zero duration is no rule in restic; drop those so both sides agree on the rule set.
    for (const k of ["within", "withinDaily", "withinWeekly", "withinMonthly"] as const) {
      const d = p[k];
      if (d && d.years + d.months + d.days + d.hours === 0) delete p[k];
    }
    if (Object.keys(p).length > 0) return p;
  }
}

const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Chatham"];

describe("against an independent implementation of restic's rules", () => {
  // 2018-10 to 2019-10 holds Sao Paulo's last DST changes (at midnight: a day without 00:00, and one with two 23:00s).
  for (const start of ["2018-10-01T00:00:00", "2026-01-01T00:00:00"]) {
    for (const zone of ZONES) {
      test(`${zone}, a year from ${start.slice(0, 10)}, 60 policies`, () => {
        const rand = random(start.length * 7919 + zone.length * 104729 + zone.charCodeAt(zone.length - 1));
        const tz = resolveZone(zone);
        let compared = 0;
        for (let i = 0; i < 60; i++) {
          const points = simulatedYear(start, rand, i % 4 === 0 ? 3 : 1);
          const policy = randomPolicy(rand);
          const now = points.at(-1)!.timestamp + (i % 10 === 0 ? -86400 * 3 : 3600);
          const ours = applyPolicy(points, policy, { zone: tz, now });
          const theirs = oracle(points, policy, zone, now);
          for (const d of ours) {
            const want = theirs.get(d.seq) ?? [];
            if (JSON.stringify(d.reasons) !== JSON.stringify(want)) {
              throw new Error(`${zone} ${JSON.stringify(policy)}: seq ${d.seq} at ${new Date(d.timestamp * 1000).toISOString()}: ours ${JSON.stringify(d.reasons)}, oracle ${JSON.stringify(want)}`);
            }
            compared++;
          }
        }
        expect(compared).toBeGreaterThan(60 * 340);
      });
    }
  }

  test("the manual's policy on a year of daily backups: 7 daily, 5 weekly, 12 monthly, 3 yearly", () => {
    const policy = { daily: 7, weekly: 5, monthly: 12, yearly: 3 };
    for (const zone of ZONES) {
      const points = Array.from({ length: 365 }, (_, i) => ({ seq: i + 1, timestamp: utc("2026-01-01T01:30:00") + i * 86400 }));
      const ours = applyPolicy(points, policy, { zone: resolveZone(zone), now: utc("2027-01-02T00:00:00") });
      const theirs = oracle(points, policy, zone, utc("2027-01-02T00:00:00"));
      expect(ours.filter((d) => d.keep).map((d) => d.seq)).toEqual([...theirs.keys()].sort((a, b) => b - a));
      // Daily 7 + weekly 5 + monthly 12 + yearly 3, overlapping: between 12 and 27 points, always the newest.
      const n = ours.filter((d) => d.keep).length;
      expect(n).toBeGreaterThanOrEqual(12);
      expect(n).toBeLessThanOrEqual(27);
      expect(ours[0]!.keep).toBe(true);
    }
  });
});
