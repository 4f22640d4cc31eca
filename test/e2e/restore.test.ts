// Round trips through the compiled binary: a storage evolves through full and
// incremental backups (the manual's daily "36 hours ago" policy, compressed to
// hours), and restoring to every sequence number and to times between them
// reproduces A/ byte for byte.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readTree } from "../fixtures/generator.ts";
import { evolve, HOUR, type Evolved } from "../fixtures/evolve.ts";
import { dsbackup, tempDir } from "../helpers.ts";
import { formats } from "../../src/storage/names.ts";
import { formatTime } from "../../src/time/format.ts";

function restoreJson(args: string[]) {
  const r = dsbackup(["restore", ...args, "--json"]);
  return { ...r, plan: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describe.each(formats)("format %s", (format) => {
  let s: Evolved;
  let backups: string;
  beforeAll(() => {
    s = evolve(format);
    backups = join(s.home, "backups");
  }, 60_000);

  test("the backups folder holds the expected archives", () => {
    expect(readdirSync(backups).filter((n) => n.endsWith(".tgz") || n === "tindex").sort()).toEqual(
      ["s-1.tgz", "s-1-to-2.tgz", "s-1-to-3.tgz", "s-2-to-4.tgz", "s-3-to-5.tgz", "s-5.tgz", "s-4-to-6.tgz", "tindex"].sort(),
    );
  });

  test("restoring each sequence number reproduces A/ as it was at that backup", () => {
    for (let k = 1; k <= 6; k++) {
      const target = join(tempDir(`to-${k}`), "restored");
      const args = ["--backups", backups, "--to", target, "--seq", String(k)];
      if (k % 2 === 0) args.push("--verify");
      const r = restoreJson(args);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.plan.restored).toBe(true);
      expect(r.plan.point.seq).toBe(k);
      expect(readTree(join(target, "A"))).toEqual(s.trees[k]!);
      expect(readTree(join(target, "config"))).toEqual(readTree(join(s.home, "config")));
      for (const empty of ["B", "journal", "misc", "backups"]) expect(readdirSync(join(target, empty))).toEqual([]);
      expect(readdirSync(target).sort()).toEqual(["A", "B", "backups", "config", "journal", "misc"]);
    }
  });

  test("the plan is the shortest chain, skipping covered incrementals", () => {
    const plan = (k: number) => restoreJson(["--backups", backups, "--seq", String(k), "--dry-run"]).plan.archives.map((a: { name: string }) => a.name);
    expect(plan(1)).toEqual(["s-1.tgz"]);
    expect(plan(3)).toEqual(["s-1.tgz", "s-1-to-3.tgz"]);
    expect(plan(4)).toEqual(["s-1.tgz", "s-1-to-3.tgz", "s-2-to-4.tgz"]);
    expect(plan(5)).toEqual(["s-5.tgz"]);
    expect(plan(6)).toEqual(["s-5.tgz", "s-4-to-6.tgz"]);
  });

  test("restoring to a time between backups takes the newest backup at or before it", () => {
    const cases: [string, number][] = [
      [String(s.times[3]! + 30 * 60), 3],
      [String(s.times[4]!), 4],
      [formatTime(new Date((s.times[2]! + 59 * 60) * 1000), "%Y-%m-%d %H:%M:%S UTC", { utc: true }), 2],
      [String(s.times[6]! + 10 * HOUR), 6],
    ];
    for (const [i, [when, seq]] of cases.entries()) {
      // two of them all the way, the others as plans
      const target = join(tempDir(`at-${seq}`), "restored");
      const r = restoreJson(["--backups", backups, "--at", when, ...(i < 2 ? ["--to", target] : ["--dry-run"])]);
      expect(r.status).toBe(0);
      expect(r.plan.point.seq).toBe(seq);
      if (i < 2) expect(readTree(join(target, "A"))).toEqual(s.trees[seq]!);
    }
    const before = dsbackup(["restore", "--backups", backups, "--to", join(tempDir("early"), "r"), "--at", String(s.times[1]! - 1)]);
    expect(before.status).toBe(1);
    expect(before.stderr).toContain("no backup with prefix");
  });

  test("verify passes every archive of a healthy folder", () => {
    const r = dsbackup(["verify", "--backups", backups, "--json"]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.archives).toHaveLength(7);
    expect(report.archives.every((a: { ok: boolean }) => a.ok)).toBe(true);
  });
});

describe("restore refuses a bad TARGET or request before doing anything", () => {
  let s: Evolved;
  let backups: string;
  beforeAll(() => {
    s = evolve("lawn", "args");
    backups = join(s.home, "backups");
  }, 60_000);

  test("non-empty target, file target, both --at and --seq, no --to", () => {
    const dir = tempDir("busy");
    const full = dsbackup(["restore", "--backups", backups, "--to", dir + "/.."]);
    expect(full.status).toBe(2);
    expect(full.stderr).toContain("is not empty");
    const file = join(s.home, "config", "settings");
    expect(dsbackup(["restore", "--backups", backups, "--to", file]).stderr).toContain("not a directory");
    expect(dsbackup(["restore", "--backups", backups, "--to", join(dir, "x"), "--seq", "2", "--at", "1"]).status).toBe(2);
    expect(dsbackup(["restore", "--backups", backups]).status).toBe(2);
    expect(dsbackup(["restore", "--backups", backups, "--to", join(dir, "x"), "--seq", "0"]).status).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("an empty existing target is used; the storage opens (settings readable, no misc/snapshot)", () => {
    const target = tempDir("empty-target");
    const r = dsbackup(["restore", "--backups", backups, "--to", target, "-q"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Archives to extract, in order (2):");
    expect(readTree(join(target, "A"))).toEqual(s.trees[6]!);
    expect(readFileSync(join(target, "config", "settings"), "utf8")).toContain("format = lawn");
    expect(existsSync(join(target, "misc", "snapshot"))).toBe(false);
    // the restored folder is a storage dsbackup itself accepts
    const again = dsbackup(["--storage", target, "list"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("0 entries");
  });
});
