// What an operator trips on: messages said once, options that mean one
// thing, empty folders that must not look healthy, --or-full that covers
// every case a full backup is the answer to.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { appendTransactions, createStorage, packStorage } from "../fixtures/generator.ts";
import { dsbackup, filesIn, holdFlockWithPython, tempDir, tools } from "../helpers.ts";
import { parseIndex } from "../../src/index/tindex.ts";

const NOW = () => Math.floor(Date.now() / 1000);
function storage(label: string) {
  const home = join(tempDir(label), "storage");
  createStorage(home, { format: "lawn", transactions: 5, seed: 2 });
  return home;
}

describe("backup messages and refusals", () => {
  test("a refusal is one line, said once; the run's other archives are named", () => {
    const home = storage("once");
    const r = dsbackup(["--storage", home, "prefix", "x", "full", "inc", "36 hours ago"]);
    expect(r.status).toBe(13);
    expect(r.stderr.match(/No previous backup/g)).toHaveLength(1);
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^dsbackup: No previous backup .*\(written: x-1\.tgz\)$/);
  });

  test("--or-full also answers a pack since the reference", () => {
    const home = storage("orfull");
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const { newestTid } = appendTransactions(home, { count: 2, seed: 3, newObjects: 0 });
    packStorage(home, newestTid);
    expect(dsbackup(["--storage", home, "inc", String(NOW() + 5)]).status).toBe(13);
    const r = dsbackup(["--storage", home, "--or-full", "inc", String(NOW() + 5)]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("taking a full backup instead");
    expect(filesIn(join(home, "backups"))).toEqual(["backup-1.tgz", "backup-2.tgz", "tindex"]);
  });

  test("a snapshot time before the newest index entry is refused: index times go forward", () => {
    const home = storage("order");
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const env = { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: home, SNAPSHOT_TIMESTAMP: String(NOW() - 3600) };
    const r = dsbackup(["full"], { env });
    expect(r.status).toBe(13);
    expect(r.stderr).toContain("index times must go forward");
    expect(parseIndex(readFileSync(join(home, "backups", "tindex"), "utf8"), "t")).toHaveLength(1);
  });

  test("--output - with two commands is refused before anything happens", () => {
    const home = storage("out2");
    const r = dsbackup(["--storage", home, "--output", "-", "full", "inc", "now"]);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain("This is backup sequence number");
  });

  test("-v is not --version for a backup (it is snapshot's verbose): a usage error, not a silent no-op", () => {
    const home = storage("v");
    expect(dsbackup(["--storage", home, "-v", "full"]).status).toBe(2);
    expect(dsbackup(["-V"]).stdout).toMatch(/^dsbackup \d+\.\d+\.\d+ \(commit /);
  });
});

describe("read-only commands", () => {
  test("verify of an empty folder fails: an unmounted disk must not look healthy", () => {
    const empty = tempDir("empty");
    const r = dsbackup(["verify", "--backups", empty]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("nothing to verify");
  });

  test("list without a folder says which options name one", () => {
    const r = dsbackup(["list"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--backups LOCATION");
  });

  test("date --help prints usage", () => {
    const r = dsbackup(["date", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: dsbackup date");
  });

  test("snapshot with a mistyped --snapshot-conf is refused, not silently direct", () => {
    const home = storage("conf");
    mkdirSync(join(home, "x"), { recursive: true });
    const r = dsbackup(["snapshot", "--storage", home, "--snapshot-conf", join(home, "nope.conf"), "--", "true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no such file");
  });
});

describe.skipIf(!tools.python)("the index lock", () => {
  test("while one program may rewrite tindex, backup and prune fail at once with exit 11 and change nothing", async () => {
    const home = storage("indexlock");
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const index = readFileSync(join(home, "backups", "tindex"), "utf8");
    const holder = await holdFlockWithPython(join(home, "backups", ".tindex.lock"));
    try {
      const backup = dsbackup(["--storage", home, "full"]);
      expect(backup.status).toBe(11);
      expect(backup.stderr).toContain("being rewritten by another dsbackup");
      const prune = dsbackup(["--storage", home, "prune", "--keep-full", "1"]);
      expect(prune.status).toBe(11);
      expect(prune.stdout).toBe(""); // no plan printed that is not carried out
    } finally {
      await holder.release();
    }
    expect(readFileSync(join(home, "backups", "tindex"), "utf8")).toBe(index);
    expect(filesIn(join(home, "backups"))).toEqual(["backup-1.tgz", "backup-2.tgz", "tindex"]);
  });
});

describe("a damaged archive with a redundant chain beside it", () => {
  test("restore names the way round it (--skip), and --skip restores the same point exactly", async () => {
    const { evolve } = await import("../fixtures/evolve.ts");
    const { readTree } = await import("../fixtures/generator.ts");
    const { truncateSync, statSync } = await import("node:fs");
    const s = evolve("chunky", "skip");
    const backups = join(s.home, "backups");
    // Sequence 4's shortest chain is s-1, s-1-to-3, s-2-to-4; damage s-1-to-3.
    const victim = join(backups, "s-1-to-3.tgz");
    truncateSync(victim, Math.floor(statSync(victim).size / 2));
    const parent = tempDir("skip-target");
    const failed = dsbackup(["restore", "--backups", backups, "--seq", "4", "--to", join(parent, "r")]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("add --skip s-1-to-3.tgz (chain s-1.tgz s-1-to-2.tgz s-2-to-4.tgz)");
    const ok = dsbackup(["restore", "--backups", backups, "--seq", "4", "--skip", "s-1-to-3.tgz", "--to", join(parent, "r"), "--verify"]);
    expect(ok.status).toBe(0);
    expect(readTree(join(parent, "r", "A"))).toEqual(s.trees[4]!);
    expect(dsbackup(["restore", "--backups", backups, "--skip", "nope.tgz", "--dry-run"]).status).toBe(2);
  });
});
