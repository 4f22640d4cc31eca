// list and prune through the compiled binary.
import { beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTree } from "../fixtures/generator.ts";
import { dsbackup, tempDir } from "../helpers.ts";
import { evolve, type Evolved } from "../fixtures/evolve.ts";

const archivesIn = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".tgz")).sort();

describe("list", () => {
  let s: Evolved;
  beforeAll(() => {
    s = evolve("bushy", "list");
  }, 60_000);

  test("every entry with its archives, kind, sizes and restore chain; orphans and missing archives", () => {
    const backups = join(tempDir("list-copy"), "backups");
    cpSync(join(s.home, "backups"), backups, { recursive: true });
    copyFileSync(join(backups, "s-5.tgz"), join(backups, "s-9.tgz")); // not in the index
    writeFileSync(join(backups, "tindex"), readFileSync(join(backups, "tindex"), "utf8") + "7     1790000000   0000000000000007\n");
    const r = dsbackup(["list", "--backups", backups, "--json"]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.prefixes).toEqual(["s"]);
    expect(report.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const five = report.entries[4];
    expect(five.archives.map((a: { name: string; kind: string; reference: number | null }) => [a.name, a.kind, a.reference])).toEqual([
      ["s-5.tgz", "full", null],
      ["s-3-to-5.tgz", "inc", 3],
    ]);
    expect(five.timestamp).toBe(s.times[5]);
    expect(five.restore).toEqual({ s: { archives: ["s-5.tgz"], error: null } });
    expect(report.entries[3].restore.s.archives).toEqual(["s-1.tgz", "s-1-to-3.tgz", "s-2-to-4.tgz"]);
    expect(report.entries[3].archives[0].size).toBeGreaterThan(0);
    expect(report.entries[6].archives).toEqual([]);
    expect(report.unindexedArchives.map((a: { name: string }) => a.name)).toEqual(["s-9.tgz"]);
    expect(report.missingArchives.map((e: { seq: number }) => e.seq)).toEqual([7]);

    const human = dsbackup(["list", "--backups", backups]);
    expect(human.stdout).toContain("s-2-to-4.tgz");
    expect(human.stdout).toContain("restore needs: s-1.tgz s-1-to-3.tgz s-2-to-4.tgz");
    expect(human.stdout).toContain("Archives not in the index:\n    s-9.tgz");
    expect(human.stdout).toContain("Index entries without any archive:");
    expect(dsbackup(["--storage", s.home, "list"]).stdout).toContain("s-4-to-6.tgz");
  });
});

describe("prune", () => {
  let s: Evolved;
  beforeAll(() => {
    s = evolve("flat", "prune");
  }, 60_000);

  test("--keep-full 1 deletes what only older restore points need; the kept points still restore exactly", () => {
    const backups = join(s.home, "backups");
    const before = archivesIn(backups);
    const dry = dsbackup(["--storage", s.home, "prune", "--keep-full", "1", "--dry-run"]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain("would delete s-1.tgz");
    expect(archivesIn(backups)).toEqual(before);

    const indexBefore = readFileSync(join(backups, "tindex"), "utf8");
    const r = dsbackup(["--storage", s.home, "prune", "--keep-full", "1"]);
    expect(r.status).toBe(0);
    // 4-to-6 is kept: restore point 6 needs it (5 then 4-to-6)
    expect(archivesIn(backups)).toEqual(["s-4-to-6.tgz", "s-5.tgz"]);
    const index = readFileSync(join(backups, "tindex"), "utf8");
    expect(index.startsWith(indexBefore.split("\n").filter((l) => l.startsWith("#")).join("\n"))).toBe(true);
    // Line 4 stays, marked: the kept 4-to-6 starts from it, and verify checks its chain back to 4's transaction.
    expect(index.split("\n").filter((l) => /^\d/.test(l)).map((l) => Number(l.split(/\s+/)[0]))).toEqual([4, 5, 6]);
    expect(index).toMatch(/^4 .*# pruned: kept as the reference of s-4-to-6\.tgz$/m);
    for (const seq of [5, 6]) {
      const target = join(tempDir("pruned"), "r");
      expect(dsbackup(["restore", "--backups", backups, "--to", target, "--seq", String(seq), "--verify"]).status).toBe(0);
      expect(readTree(join(target, "A"))).toEqual(s.trees[seq]!);
    }
    expect(dsbackup(["verify", "--backups", backups]).status).toBe(0);
    // nothing more to do
    const again = dsbackup(["--storage", s.home, "prune", "--keep-full", "1"]);
    expect(again.stdout).toContain("nothing to prune");
    expect(dsbackup(["--storage", s.home, "prune"]).status).toBe(2);
    expect(dsbackup(["--storage", s.home, "prune", "--keep-full", "0"]).status).toBe(2);
  });
});
