// From kept points to kept archives and index lines, on a simulated year of
// the manual's scheme: a full backup on Sundays, `inc "36 hours ago"` on the
// other days (each incremental starts two runs back).
import { describe, expect, test } from "bun:test";
import type { IndexEntry } from "../../src/index/tindex.ts";
import { applyPolicy, type RetentionPolicy } from "../../src/retention/policy.ts";
import { restorablePoints, selectArchives, type ChainOf } from "../../src/retention/select.ts";
import { chainTo, parseArchiveName, type ArchiveName } from "../../src/restore/plan.ts";
import { resolveZone } from "../../src/time/zone.ts";

const DAY = 86400;
const START = Date.parse("2026-01-04T02:00:00Z") / 1000; // a Sunday

function year(prefix = "backup", days = 365): { entries: IndexEntry[]; archives: ArchiveName[] } {
  const entries: IndexEntry[] = [];
  const archives: ArchiveName[] = [];
  for (let i = 0; i < days; i++) {
    const seq = i + 1;
    entries.push({ seq, timestamp: START + i * DAY, tid: seq.toString(16).toUpperCase().padStart(16, "0"), line: seq + 4 });
    const name = i % 7 === 0 || seq <= 2 ? `${prefix}-${seq}.tgz` : `${prefix}-${seq - 2}-to-${seq}.tgz`;
    archives.push(parseArchiveName(name)!);
  }
  return { entries, archives };
}

const singlePrefix: (archives: ArchiveName[]) => ChainOf = (archives) => (prefix, seq) => {
  const own = archives.filter((a) => a.prefix === prefix);
  return chainTo(own, seq);
};

function prune(entries: IndexEntry[], archives: ArchiveName[], policy: RetentionPolicy, zone = "Europe/Berlin") {
  const chainOf = singlePrefix(archives);
  const points = restorablePoints(entries, archives, "backup", chainOf);
  const decisions = applyPolicy(
    points.map((p) => ({ seq: p.entry.seq, timestamp: p.entry.timestamp, fullSeq: p.chain[0]!.seq })),
    policy,
    { zone: resolveZone(zone), now: START + 400 * DAY },
  );
  const keep = decisions.filter((d) => d.keep).map((d) => d.seq);
  return { keep, chainOf, sel: selectArchives({ entries, archives, prefix: "backup", keep, chainOf }) };
}

describe("selectArchives on a year of weekly fulls and daily incrementals", () => {
  const { entries, archives } = year();
  const policies: RetentionPolicy[] = [
    { daily: 7, weekly: 5, monthly: 12, yearly: 3 },
    { last: 3 },
    { within: { years: 0, months: 2, days: 0, hours: 0 } },
    { monthly: -1 },
    { full: 4 },
    { weekly: 10, withinDaily: { years: 0, months: 0, days: 10, hours: 0 } },
  ];
  for (const policy of policies) {
    test(JSON.stringify(policy), () => {
      const { keep, chainOf, sel } = prune(entries, archives, policy);
      const left = new Set(sel.keep.map((a) => a.name));
      // Every kept point stays restorable, with the very same chain.
      for (const seq of keep) {
        const before = chainOf("backup", seq) as ArchiveName[];
        const after = chainTo(sel.keep, seq);
        expect(after).toEqual(before);
        for (const a of before) expect(left.has(a.name)).toBe(true);
      }
      // Nothing else remains: every archive left is on some kept point's chain.
      const needed = new Set(keep.flatMap((seq) => (chainOf("backup", seq) as ArchiveName[]).map((a) => a.name)));
      expect([...left].filter((n) => !needed.has(n))).toEqual([]);
      expect(sel.keep.length + sel.remove.length).toBe(archives.length);
      // Index lines: each remaining archive's line and each remaining incremental's reference line stay.
      const dropped = new Set(sel.dropEntries.map((e) => e.seq));
      for (const a of sel.keep) {
        expect(dropped.has(a.seq)).toBe(false);
        if (a.reference !== undefined) expect(dropped.has(a.reference)).toBe(false);
      }
      // Every other line goes; a line kept only as a reference is marked with the incremental starting from it.
      const remaining = entries.filter((e) => !dropped.has(e.seq));
      for (const e of remaining) {
        const ends = sel.keep.some((a) => a.seq === e.seq);
        const mark = sel.referenceEntries.find((r) => r.entry.seq === e.seq);
        expect(ends || mark !== undefined).toBe(true);
        if (mark) expect(sel.keep.find((a) => a.name === mark.by)?.reference).toBe(e.seq);
      }
      // A removed point restorable anyway is reported as such, and only then.
      for (const seq of sel.stillRestorable) expect(keep.includes(seq)).toBe(false);
    });
  }

  test("the manual's policy keeps about 25 points and deletes most of the year", () => {
    const { keep, sel } = prune(entries, archives, { daily: 7, weekly: 5, monthly: 12, yearly: 3 });
    expect(keep.length).toBeGreaterThanOrEqual(20);
    expect(keep.length).toBeLessThanOrEqual(27);
    expect(sel.remove.length).toBeGreaterThan(280);
    // A month-end point on a Wednesday needs Sunday's full and two incrementals: their reference lines stay marked.
    expect(sel.referenceEntries.length).toBeGreaterThan(0);
  });

  test("a kept point that is not restorable, or keeping nothing, is refused", () => {
    const chainOf = singlePrefix(archives);
    expect(() => selectArchives({ entries, archives, prefix: "backup", keep: [9999], chainOf })).toThrow(RangeError);
    expect(() => selectArchives({ entries, archives, prefix: "backup", keep: [], chainOf })).toThrow(RangeError);
  });

  test("archives of no restorable point are deleted only when older than every kept point", () => {
    const extra = [...archives, parseArchiveName("backup-500.tgz")!, parseArchiveName("backup-3-to-4.tgz")!];
    // backup-3-to-4 ends at an indexed restorable point (4) but no kept chain uses it: it goes; 500 has no index line and is newer: it stays.
    const chainOf = singlePrefix(extra);
    const sel = selectArchives({ entries, archives: extra, prefix: "backup", keep: [365], chainOf });
    expect(sel.remove.map((a) => a.name)).toContain("backup-3-to-4.tgz");
    expect(sel.keep.map((a) => a.name)).toContain("backup-500.tgz");
  });
});

describe("chains across prefixes", () => {
  // weekly-N.tgz fulls on Sundays, daily-R-to-N.tgz the other days starting from any prefix's backup.
  const entries: IndexEntry[] = [];
  const archives: ArchiveName[] = [];
  for (let seq = 1; seq <= 60; seq++) {
    entries.push({ seq, timestamp: START + (seq - 1) * DAY, tid: "0".repeat(15) + "1", line: seq });
    archives.push(parseArchiveName(seq % 7 === 1 ? `weekly-${seq}.tgz` : `daily-${seq - 1}-to-${seq}.tgz`)!);
  }
  // A chain of either prefix: the newest full of any prefix, then incrementals of any prefix.
  const chainOf: ChainOf = (prefix, seq) => {
    const chain = chainTo(archives, seq);
    return typeof chain === "string" || chain.at(-1)!.prefix === prefix ? chain : `no ${prefix} archive ends at ${seq}`;
  };

  test("pruning daily keeps the weekly fulls its kept points start from, and never deletes another prefix's archive", () => {
    const points = restorablePoints(entries, archives, "daily", chainOf);
    expect(points.length).toBe(60 - 9);
    const keep = [60, 45];
    const sel = selectArchives({ entries, archives, prefix: "daily", keep, chainOf });
    expect(sel.remove.every((a) => a.prefix === "daily")).toBe(true);
    const left = new Set(sel.keep.map((a) => a.name));
    for (const seq of keep) for (const a of chainOf("daily", seq) as ArchiveName[]) expect(left.has(a.name)).toBe(true);
    // Weekly points stay restorable: pruning daily does not judge them.
    for (const p of restorablePoints(entries, archives, "weekly", chainOf)) for (const a of p.chain) expect(left.has(a.name)).toBe(true);
  });
});
