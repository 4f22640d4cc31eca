// Chains that cross prefixes (issue 11, item 2): `prefix weekly full` plus
// `prefix daily inc "1 day ago"` share one index and one reference rule, so
// restore, list's plans, verify's chain check and prune follow references
// across prefixes; --prefix only chooses which archives end the chain.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTree } from "../fixtures/generator.ts";
import { weeklyDaily, weeklyDailyRedundant, type Evolved } from "../fixtures/evolve.ts";
import { copyBackups, dsbackup, tempDir } from "../helpers.ts";

const archivesIn = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".tgz")).sort();
function restoreTo(backups: string, args: string[]) {
  const target = join(tempDir("xp-to"), "r");
  const r = dsbackup(["restore", "--backups", backups, "--to", target, "--json", ...args]);
  return { ...r, target, plan: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describe("weekly fulls, daily incrementals from the day before", () => {
  let s: Evolved;
  let backups: string;
  const dailyPoints = [2, 3, 4, 6, 7];
  beforeAll(() => {
    s = weeklyDaily("bushy");
    backups = join(s.home, "backups");
  }, 60_000);

  test("the scheme writes what the original tool would", () => {
    expect(archivesIn(backups)).toEqual(
      ["daily-1-to-2.tgz", "daily-2-to-3.tgz", "daily-3-to-4.tgz", "daily-5-to-6.tgz", "daily-6-to-7.tgz", "weekly-1.tgz", "weekly-5.tgz"].sort(),
    );
  });

  test("restore --prefix daily: every daily point (and the newest) restores byte-identical, through weekly fulls", () => {
    for (const k of dailyPoints) {
      const r = restoreTo(backups, ["--prefix", "daily", "--seq", String(k), ...(k % 2 ? ["--verify"] : [])]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.plan.archives[0].name).toBe(k < 5 ? "weekly-1.tgz" : "weekly-5.tgz");
      expect(r.plan.archives.at(-1).name).toMatch(new RegExp(`^daily-\\d+-to-${k}\\.tgz$`));
      expect(readTree(join(r.target, "A"))).toEqual(s.trees[k]!);
    }
    const newest = restoreTo(backups, ["--prefix", "daily"]);
    expect(newest.status).toBe(0);
    expect(newest.plan.point.seq).toBe(7);
    expect(newest.plan.archives.map((a: { name: string }) => a.name)).toEqual(["weekly-5.tgz", "daily-5-to-6.tgz", "daily-6-to-7.tgz"]);
    expect(readTree(join(newest.target, "A"))).toEqual(s.trees[7]!);
    for (const k of [1, 5]) {
      const w = restoreTo(backups, ["--prefix", "weekly", "--seq", String(k)]);
      expect(w.status).toBe(0);
      expect(readTree(join(w.target, "A"))).toEqual(s.trees[k]!);
    }
    // --prefix picks the restore points: sequence 5 is weekly's, not daily's.
    const notDaily = dsbackup(["restore", "--backups", backups, "--prefix", "daily", "--seq", "5", "--dry-run"]);
    expect(notDaily.status).toBe(1);
    expect(notDaily.stderr).toContain('no archive with prefix "daily" ends at sequence 5');
  });

  test("list's restore plans follow references across prefixes", () => {
    const r = dsbackup(["list", "--backups", backups, "--json"]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    const four = report.entries.find((e: { seq: number }) => e.seq === 4);
    expect(four.restore).toEqual({ daily: { archives: ["weekly-1.tgz", "daily-1-to-2.tgz", "daily-2-to-3.tgz", "daily-3-to-4.tgz"], error: null } });
    for (const e of report.entries) for (const plan of Object.values(e.restore) as { error: string | null }[]) expect(plan.error).toBeNull();
    const only = JSON.parse(dsbackup(["list", "--backups", backups, "--prefix", "daily", "--json"]).stdout);
    expect(only.entries.find((e: { seq: number }) => e.seq === 6).restore.daily.archives).toEqual(["weekly-5.tgz", "daily-5-to-6.tgz"]);
    const human = dsbackup(["list", "--backups", backups]).stdout;
    expect(human).toContain("restore (daily) needs: weekly-1.tgz daily-1-to-2.tgz daily-2-to-3.tgz");
    expect(human).not.toContain("cannot restore");
  });

  test("verify checks every restore point's chain across prefixes, and --prefix daily also reads the weekly fulls it needs", () => {
    const ok = dsbackup(["verify", "--backups", backups, "--json"]);
    expect(ok.status).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report.restorePoints.filter((p: { prefix: string }) => p.prefix === "daily").map((p: { seq: number }) => p.seq)).toEqual(dailyPoints);
    expect(report.restorePoints.every((p: { error: string | null }) => p.error === null)).toBe(true);
    const daily = JSON.parse(dsbackup(["verify", "--backups", backups, "--prefix", "daily", "--json"]).stdout);
    expect(daily.archives.map((a: { name: string }) => a.name)).toContain("weekly-1.tgz");

    // A damaged weekly full breaks the daily points: verify --prefix daily says so.
    const damaged = copyBackups(backups, "xp-damaged");
    const w1 = join(damaged, "weekly-1.tgz");
    const bytes = readFileSync(w1);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(w1, bytes);
    const bad = dsbackup(["verify", "--backups", damaged, "--prefix", "daily"]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("FAILED weekly-1.tgz");

    // The weekly full gone (its line kept as a reference, as a prune would): the daily points cannot be restored.
    const gone = copyBackups(backups, "xp-gone");
    rmSync(join(gone, "weekly-1.tgz"));
    const index = readFileSync(join(gone, "tindex"), "utf8").replace(/^(1 .*)$/m, "$1  # pruned: kept as the reference of daily-1-to-2.tgz");
    writeFileSync(join(gone, "tindex"), index);
    const broken = dsbackup(["verify", "--backups", gone]);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain("restore point 2 (prefix daily) cannot be restored: no full backup at or before sequence 2");
  });

  test("prune follows references across prefixes: a weekly full the daily points need is kept until daily is pruned", () => {
    const dir = copyBackups(backups, "xp-prune");
    const weekly = dsbackup(["prune", "--backups", dir, "--prefix", "weekly", "--keep-full", "1"]);
    expect(weekly.status).toBe(0);
    expect(weekly.stdout).toContain("keeping weekly-1.tgz: restore points 2, 3, 4 of prefix daily still need it (prune --prefix daily first)");
    expect(archivesIn(dir)).toContain("weekly-1.tgz");

    // daily has no full backups of its own: the weekly ones count.
    const daily = dsbackup(["prune", "--backups", dir, "--prefix", "daily", "--keep-full", "1"]);
    expect(daily.status).toBe(0);
    expect(daily.stdout).toContain("deleted daily-1-to-2.tgz");
    expect(daily.stdout.split("\n").filter((l) => l.includes("daily-1-to-2.tgz")).length).toBe(1); // named once
    expect(archivesIn(dir)).toEqual(["daily-5-to-6.tgz", "daily-6-to-7.tgz", "weekly-1.tgz", "weekly-5.tgz"]);

    const again = dsbackup(["prune", "--backups", dir, "--prefix", "weekly", "--keep-full", "1"]);
    expect(again.status).toBe(0);
    expect(archivesIn(dir)).toEqual(["daily-5-to-6.tgz", "daily-6-to-7.tgz", "weekly-5.tgz"]);
    const lines = readFileSync(join(dir, "tindex"), "utf8").split("\n").filter((l) => /^\d/.test(l)).map((l) => Number(l.split(/\s+/)[0]));
    expect(lines).toEqual([5, 6, 7]);
    expect(dsbackup(["verify", "--backups", dir]).status).toBe(0);
    for (const k of [6, 7]) {
      const r = restoreTo(dir, ["--prefix", "daily", "--seq", String(k)]);
      expect(r.status).toBe(0);
      expect(readTree(join(r.target, "A"))).toEqual(s.trees[k]!);
    }
  });
});

describe("redundant daily incrementals (36 hours ago) across weekly fulls", () => {
  let s: Evolved;
  let backups: string;
  beforeAll(() => {
    s = weeklyDailyRedundant("flat");
    backups = join(s.home, "backups");
  }, 60_000);

  test("every point restores byte-identical; plans skip covered incrementals across prefixes", () => {
    expect(archivesIn(backups)).toEqual(
      ["daily-1-to-2.tgz", "daily-1-to-3.tgz", "daily-2-to-4.tgz", "daily-3-to-5.tgz", "daily-5-to-7.tgz", "daily-6-to-8.tgz", "weekly-1.tgz", "weekly-6.tgz"].sort(),
    );
    const plans: Record<number, string[]> = {
      5: ["weekly-1.tgz", "daily-1-to-3.tgz", "daily-3-to-5.tgz"],
      7: ["weekly-6.tgz", "daily-5-to-7.tgz"],
      8: ["weekly-6.tgz", "daily-6-to-8.tgz"],
    };
    for (const k of [2, 3, 4, 5, 7, 8]) {
      const r = restoreTo(backups, ["--prefix", "daily", "--seq", String(k), "--verify"]);
      expect(r.status).toBe(0);
      if (plans[k]) expect(r.plan.archives.map((a: { name: string }) => a.name)).toEqual(plans[k]);
      expect(readTree(join(r.target, "A"))).toEqual(s.trees[k]!);
    }
  });

  test("a lost daily archive is survived by the other chain, across prefixes", () => {
    const r = restoreTo(backups, ["--prefix", "daily", "--seq", "5", "--skip", "daily-1-to-3.tgz"]);
    expect(r.status).toBe(0);
    expect(r.plan.archives.map((a: { name: string }) => a.name)).toEqual(["weekly-1.tgz", "daily-1-to-2.tgz", "daily-2-to-4.tgz", "daily-3-to-5.tgz"]);
    expect(readTree(join(r.target, "A"))).toEqual(s.trees[5]!);
    const dir = copyBackups(backups, "xp-36h-prune");
    expect(dsbackup(["prune", "--backups", dir, "--prefix", "daily", "--keep-full", "1"]).status).toBe(0);
    // 5-to-7 starts before weekly-6 but ends after it: kept, and line 5 with it.
    expect(archivesIn(dir)).toEqual(["daily-5-to-7.tgz", "daily-6-to-8.tgz", "weekly-1.tgz", "weekly-6.tgz"]);
    expect(readFileSync(join(dir, "tindex"), "utf8")).toMatch(/^5 .*# pruned: kept as the reference of daily-5-to-7\.tgz$/m);
    expect(dsbackup(["verify", "--backups", dir]).status).toBe(0);
  });
});
