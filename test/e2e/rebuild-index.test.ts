// rebuild-index: a backups folder that lost its tindex gets a new one from
// the archives (issue 11); list, verify and restore then work on it.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTree } from "../fixtures/generator.ts";
import { evolve, weeklyDaily, type Evolved } from "../fixtures/evolve.ts";
import { copyBackups, dsbackup, tempDir } from "../helpers.ts";

/** Index lines without comments and without the snapshot-time column: sequence and tid. */
const seqAndTid = (text: string) =>
  text
    .split("\n")
    .filter((l) => /^\d/.test(l))
    .map((l) => {
      const [seq, , tid] = l.replace(/#.*$/, "").trim().split(/\s+/);
      return `${seq} ${tid}`;
    });

describe("rebuild-index", () => {
  let s: Evolved;
  beforeAll(() => {
    s = evolve("bushy", "rebuild");
  }, 60_000);

  test("from the archives alone: the same sequences and tids, byte-compatible lines, and restore works again", () => {
    const dir = copyBackups(join(s.home, "backups"), "rebuild");
    const original = readFileSync(join(dir, "tindex"), "utf8");
    rmSync(join(dir, "tindex"));
    const r = dsbackup(["rebuild-index", "--backups", dir]);
    expect(r.stderr).toContain(`Wrote ${join(dir, "tindex")}: 6 lines`);
    expect(r.status).toBe(0);
    const rebuilt = readFileSync(join(dir, "tindex"), "utf8");
    expect(seqAndTid(rebuilt)).toEqual(seqAndTid(original));
    // "%-5d %-12d %s", then the comment saying where the time comes from
    for (const line of rebuilt.split("\n").filter((l) => /^\d/.test(l))) {
      expect(line).toMatch(/^\d{1,5} {1,5}\d{1,12} {0,12} [0-9A-F]{16}  # rebuilt: time of the newest transaction in s-\S+\.tgz, not the snapshot time$/);
      const [seq, time, tid] = line.split(/\s+/);
      expect(line.slice(0, 6 + 13 + 16)).toBe(`${seq!.padEnd(5)} ${time!.padEnd(12)} ${tid}`);
      // the newest transaction's time, never later than the real snapshot time
      expect(Number(time)).toBeLessThanOrEqual(s.times[Number(seq)]!);
    }
    expect(rebuilt).toContain("# snapshot times are each backup's newest transaction time");

    expect(dsbackup(["verify", "--backups", dir]).status).toBe(0);
    const list = JSON.parse(dsbackup(["list", "--backups", dir, "--json"]).stdout);
    expect(list.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(list.entries[3].restore.s.archives).toEqual(["s-1.tgz", "s-1-to-3.tgz", "s-2-to-4.tgz"]);
    for (const seq of [4, 6]) {
      const target = join(tempDir("rebuilt-to"), "r");
      expect(dsbackup(["restore", "--backups", dir, "--to", target, "--seq", String(seq), "--verify"]).status).toBe(0);
      expect(readTree(join(target, "A"))).toEqual(s.trees[seq]!);
    }
  });

  test("refuses while a tindex exists (exit 13, nothing changed); --force keeps the old one as tindex.old-TIMESTAMP", () => {
    const dir = copyBackups(join(s.home, "backups"), "rebuild-force");
    const original = readFileSync(join(dir, "tindex"), "utf8");
    const refused = dsbackup(["rebuild-index", "--backups", dir]);
    expect(refused.status).toBe(13);
    expect(refused.stderr).toBe(`dsbackup: ${join(dir, "tindex")} exists; rebuild-index --force replaces it (keeping it as tindex.old-TIMESTAMP)\n`);
    expect(readFileSync(join(dir, "tindex"), "utf8")).toBe(original);
    const forced = dsbackup(["rebuild-index", "--backups", dir, "--force"]);
    expect(forced.status).toBe(0);
    const old = readdirSync(dir).filter((n) => /^tindex\.old-\d{8}T\d{6}Z$/.test(n));
    expect(old.length).toBe(1);
    expect(readFileSync(join(dir, old[0]!), "utf8")).toBe(original);
    expect(seqAndTid(readFileSync(join(dir, "tindex"), "utf8"))).toEqual(seqAndTid(original));
    expect(readdirSync(dir).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  });

  test("a damaged archive is left out and named (exit 1); a pruned reference's line comes from the incremental's chain", () => {
    const dir = copyBackups(join(s.home, "backups"), "rebuild-damaged");
    rmSync(join(dir, "tindex"));
    writeFileSync(join(dir, "s-1-to-2.tgz"), "not gzip at all");
    const r = dsbackup(["rebuild-index", "--backups", dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("left out: s-1-to-2.tgz: cannot read");
    // Line 2 still comes back, from 2-to-4's chain (the archive ending at 2 was the damaged one).
    const withoutTwo = readFileSync(join(dir, "tindex"), "utf8");
    expect(seqAndTid(withoutTwo).map((l) => Number(l.split(" ")[0]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(withoutTwo).toMatch(/^2 .*# pruned: kept as the reference of s-2-to-4\.tgz; rebuilt from its transaction chain$/m);

    // Only 4-to-6 and 5 left (as after prune --keep-full 1): line 4 is rebuilt as 4-to-6's reference.
    const pruned = copyBackups(join(s.home, "backups"), "rebuild-pruned");
    const original = readFileSync(join(pruned, "tindex"), "utf8");
    for (const n of readdirSync(pruned)) if (n !== "s-5.tgz" && n !== "s-4-to-6.tgz") rmSync(join(pruned, n));
    expect(dsbackup(["rebuild-index", "--backups", pruned]).status).toBe(0);
    const rebuilt = readFileSync(join(pruned, "tindex"), "utf8");
    expect(seqAndTid(rebuilt)).toEqual(seqAndTid(original).filter((l) => ["4", "5", "6"].includes(l.split(" ")[0]!)));
    expect(rebuilt).toMatch(/^4 .*# pruned: kept as the reference of s-4-to-6\.tgz; rebuilt from its transaction chain$/m);
    expect(dsbackup(["verify", "--backups", pruned]).status).toBe(0);
    expect(dsbackup(["rebuild-index", "--backups", join(tempDir("rebuild-empty"))]).status).toBe(10);
  });

  test("across prefixes: weekly and daily archives rebuild one index, and restore --prefix daily works", () => {
    const w = weeklyDaily("flat", "rebuild-xp");
    const dir = copyBackups(join(w.home, "backups"), "rebuild-xp");
    const original = readFileSync(join(dir, "tindex"), "utf8");
    rmSync(join(dir, "tindex"));
    expect(dsbackup(["rebuild-index", "--backups", dir]).status).toBe(0);
    expect(seqAndTid(readFileSync(join(dir, "tindex"), "utf8"))).toEqual(seqAndTid(original));
    const target = join(tempDir("rebuilt-xp"), "r");
    expect(dsbackup(["restore", "--backups", dir, "--prefix", "daily", "--seq", "4", "--to", target]).status).toBe(0);
    expect(readTree(join(target, "A"))).toEqual(w.trees[4]!);
    expect(existsSync(join(dir, "tindex"))).toBe(true);
  }, 60_000);
});
