// Restore planning over archive names: the manual's skipping rule, loss of
// one day's backup, restore points by sequence and by time, pruning.
import { describe, expect, test } from "bun:test";
import type { IndexEntry } from "../../src/index/tindex.ts";
import { chainTo, parseArchiveName, planRestore, PlanError, pruneSelection, type ArchiveName } from "../../src/restore/plan.ts";

const archives = (...names: string[]): ArchiveName[] => names.map((n) => parseArchiveName(n)!);
const names = (chain: ArchiveName[] | string) => (typeof chain === "string" ? chain : chain.map((a) => a.name));
const entries = (n: number): IndexEntry[] =>
  Array.from({ length: n }, (_, i) => ({ seq: i + 1, timestamp: 1_000_000 + 86400 * i, tid: (i + 1).toString(16).toUpperCase().padStart(16, "0"), line: 5 + i }));

/** The manual's daily `inc "36 hours ago"` policy: full 1, 1-to-2, then (k-2)-to-k. */
function daily(last: number, prefix = "m"): string[] {
  const out = [`${prefix}-1.tgz`, `${prefix}-1-to-2.tgz`];
  for (let k = 3; k <= last; k++) out.push(`${prefix}-${k - 2}-to-${k}.tgz`);
  return out;
}

describe("parseArchiveName", () => {
  test("full, incremental, prefixes with dashes and digits, and non-archives", () => {
    expect(parseArchiveName("backup-7.tgz")).toEqual({ name: "backup-7.tgz", prefix: "backup", kind: "full", seq: 7, encrypted: false });
    expect(parseArchiveName("my-store-2-5-to-7.tgz")).toEqual({ name: "my-store-2-5-to-7.tgz", prefix: "my-store-2", kind: "inc", seq: 7, reference: 5, encrypted: false });
    expect(parseArchiveName("x-1-to-2.tgz")?.kind).toBe("inc");
    expect(parseArchiveName("backup-7.tgz.age")).toEqual({ name: "backup-7.tgz.age", prefix: "backup", kind: "full", seq: 7, encrypted: true });
    expect(parseArchiveName("mystorage-5-to-7.tgz.age")).toEqual({ name: "mystorage-5-to-7.tgz.age", prefix: "mystorage", kind: "inc", seq: 7, reference: 5, encrypted: true });
    for (const bad of ["backup-7.age", "backup-7.tgz.age.tmp", "backup-7.tgz.agex", "backup-7.tar.gz.age"]) expect(parseArchiveName(bad)).toBeUndefined();
    for (const bad of ["tindex", ".tmp-h-1-backup-3.tgz", "backup-0.tgz", "backup-3-to-3.tgz", "backup-4-to-2.tgz", "backup.tgz", "backup-1.tar.gz"]) {
      expect(parseArchiveName(bad)).toBeUndefined();
    }
  });
});

describe("chainTo", () => {
  test("after 8-to-10 skip 9-to-11 and go to 10-to-12 (the manual's example)", () => {
    const a = archives("m-8.tgz", "m-8-to-10.tgz", "m-9-to-11.tgz", "m-10-to-12.tgz");
    expect(names(chainTo(a, 12))).toEqual(["m-8.tgz", "m-8-to-10.tgz", "m-10-to-12.tgz"]);
    expect(names(chainTo(a, 11))).toEqual(["m-8.tgz", "m-8-to-10.tgz", "m-9-to-11.tgz"]);
    expect(names(chainTo(a, 8))).toEqual(["m-8.tgz"]);
  });

  test("daily policy: every day restorable, each chain half as long as the days", () => {
    const a = archives(...daily(12));
    for (let day = 1; day <= 12; day++) {
      const chain = chainTo(a, day);
      expect(typeof chain).not.toBe("string");
      const c = chain as ArchiveName[];
      expect(c[0]!.name).toBe("m-1.tgz");
      expect(c.at(-1)!.seq).toBe(day);
      // each step starts at or before the state restored so far
      for (let i = 1; i < c.length; i++) expect(c[i]!.reference!).toBeLessThanOrEqual(c[i - 1]!.seq);
      expect(c.length).toBe(day === 1 ? 1 : Math.ceil((day - 1) / 2) + 1);
    }
  });

  test("one lost day is survived, two consecutive lost days are not", () => {
    const oneLost = archives(...daily(10).filter((n) => n !== "m-5-to-7.tgz"));
    // 3-to-5, then 4-to-6 in place of the lost 5-to-7, and on by even days
    expect(names(chainTo(oneLost, 10))).toEqual(["m-1.tgz", "m-1-to-3.tgz", "m-3-to-5.tgz", "m-4-to-6.tgz", "m-6-to-8.tgz", "m-8-to-10.tgz"]);
    const twoLost = archives(...daily(10).filter((n) => n !== "m-5-to-7.tgz" && n !== "m-6-to-8.tgz"));
    expect(chainTo(twoLost, 7)).toContain("no incremental backup continues");
    expect(chainTo(twoLost, 10)).toContain("no incremental backup continues");
    expect(names(chainTo(twoLost, 6))).toEqual(["m-1.tgz", "m-1-to-3.tgz", "m-3-to-5.tgz", "m-4-to-6.tgz"]);
  });

  test("starts from the newest full backup at or before the point", () => {
    const a = archives(...daily(8), "m-5.tgz");
    expect(names(chainTo(a, 8))).toEqual(["m-5.tgz", "m-5-to-7.tgz", "m-6-to-8.tgz"]);
    expect(names(chainTo(a, 4))[0]).toBe("m-1.tgz");
    expect(chainTo(archives("m-3.tgz", "m-3-to-4.tgz"), 2)).toBe("no full backup at or before sequence 2");
  });
});

describe("planRestore", () => {
  const a = archives(...daily(6), "other-6.tgz");
  const idx = entries(6);

  test("by sequence, by time, newest", () => {
    expect(planRestore(idx, a, "m", { seq: 4 }).archives.map((x) => x.name)).toEqual(["m-1.tgz", "m-1-to-3.tgz", "m-2-to-4.tgz"]);
    expect(planRestore(idx, a, "m", { newest: true }).point.seq).toBe(6);
    // between backups 3 and 4: backup 3; exactly at 4: backup 4
    expect(planRestore(idx, a, "m", { atSeconds: idx[2]!.timestamp + 3600 }).point.seq).toBe(3);
    expect(planRestore(idx, a, "m", { atSeconds: idx[3]!.timestamp }).point.seq).toBe(4);
    expect(planRestore(idx, a, "other", { newest: true }).archives.map((x) => x.name)).toEqual(["other-6.tgz"]);
  });

  test("refusals name the reason", () => {
    expect(() => planRestore(idx, a, "m", { seq: 9 })).toThrow("sequence 9 is not in the index");
    expect(() => planRestore(idx, a, "other", { seq: 3 })).toThrow('no archive with prefix "other" ends at sequence 3');
    expect(() => planRestore(idx, a, "m", { atSeconds: idx[0]!.timestamp - 1 })).toThrow(PlanError);
    expect(() => planRestore(idx, a, "nope", { newest: true })).toThrow("no archives");
    const broken = a.filter((x) => x.name !== "m-1-to-2.tgz" && x.name !== "m-1-to-3.tgz");
    expect(() => planRestore(idx, broken, "m", { seq: 4 })).toThrow("cannot restore sequence 4");
  });
});

describe("pruneSelection", () => {
  test("keeps the N newest fulls and everything their restore points need", () => {
    const a = archives(...daily(9), "m-4.tgz", "m-7.tgz");
    const idx = entries(9);
    const sel = pruneSelection(idx, a, "m", 2);
    expect(sel.oldestKept?.name).toBe("m-4.tgz");
    // 2-to-4 ends at the oldest kept full: redundant with it
    expect(sel.remove.map((x) => x.name).sort()).toEqual(["m-1-to-2.tgz", "m-1-to-3.tgz", "m-1.tgz", "m-2-to-4.tgz"].sort());
    expect(sel.keep.map((x) => x.name)).toContain("m-3-to-5.tgz");
    for (let seq = 4; seq <= 9; seq++) expect(typeof chainTo(sel.keep, seq)).not.toBe("string");
    expect(pruneSelection(idx, a, "m", 3).remove).toEqual([]);
  });

  test("an incremental that starts before the oldest kept full but ends after it is kept", () => {
    const a = archives("m-1.tgz", "m-1-to-2.tgz", "m-2.tgz", "m-1-to-3.tgz");
    const sel = pruneSelection(entries(3), a, "m", 1);
    expect(sel.remove.map((x) => x.name)).toEqual(["m-1.tgz", "m-1-to-2.tgz"]);
    expect(names(chainTo(sel.keep, 3))).toEqual(["m-2.tgz", "m-1-to-3.tgz"]);
  });

  test("a full archive without an index line never counts as a kept full backup", () => {
    // backup-3.tgz copied in as backup-9.tgz, which the index does not know.
    const a = archives("m-1.tgz", "m-1-to-2.tgz", "m-3.tgz", "m-9.tgz");
    const sel = pruneSelection(entries(3), a, "m", 1);
    expect(sel.oldestKept?.name).toBe("m-3.tgz");
    expect(sel.remove.map((x) => x.name)).toEqual(["m-1.tgz", "m-1-to-2.tgz"]);
    expect(sel.keep.map((x) => x.name)).toContain("m-3.tgz");
  });
});
