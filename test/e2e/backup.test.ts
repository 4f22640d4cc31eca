// End-to-end tests of the compiled binary taking full and incremental backups.
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { appendTransactions, createStorage, packStorage } from "../fixtures/generator.ts";
import { dsbackup, expectedTree, extractWith, extractedTree, filesIn, holdFlockWithPython, listArchive, pythonTriesFlock, tempDir, tools, type Extractor } from "../helpers.ts";
import { formats, databasePath } from "../../src/storage/names.ts";
import { parseIndex } from "../../src/index/tindex.ts";

const NOW = () => Math.floor(Date.now() / 1000);

function newStorage(format: (typeof formats)[number], transactions = 12) {
  const home = join(tempDir(format), "storage");
  const result = createStorage(home, { format, transactions, objectsPerTransaction: 4, seed: 3 });
  return { home, ...result };
}

function indexOf(home: string) {
  return parseIndex(readFileSync(join(home, "backups", "tindex"), "utf8"), "tindex");
}

const extractors: Extractor[] = [];
if (tools.gnuTar) extractors.push("gnu-tar");
else console.warn("SKIP: GNU tar not installed; extraction with it is not tested");
if (tools.bsdtar) extractors.push("bsdtar");
else console.warn("SKIP: bsdtar not installed (apt-get install libarchive-tools); extraction with it is not tested");
if (tools.python) extractors.push("python");
else console.warn("SKIP: python3 not installed; tarfile extraction is not tested");

describe.each(formats)("format %s", (format) => {
  test("full backup holds exactly the spec's entries and extracts byte-identical", () => {
    const { home } = newStorage(format);
    // A revision marked deleted by a pack must be left out.
    const deleted = join(home, "A", databasePath(format, "o00000000000000FF.03C5A1B2C3D4E5F6")) + "-1790000000-deleted";
    mkdirSync(dirname(deleted), { recursive: true });
    writeFileSync(deleted, "old");
    const r = dsbackup(["--storage", home, "full"]);
    expect(r.stderr).toContain("This is backup sequence number 1");
    expect(r.status).toBe(0);
    const archive = join(home, "backups", "backup-1.tgz");
    const names = listArchive(archive);
    const expected = [
      ...["A/", "B/", "backups/", "config/", "journal/", "misc/"],
      ...[...expectedTree(home).keys()],
    ].sort();
    expect([...names].sort()).toEqual(expected);
    expect(names.some((n) => n.endsWith("-deleted"))).toBe(false);
    for (const tool of extractors) {
      const dest = tempDir(`x-${tool}`);
      extractWith(tool, archive, dest);
      expect(extractedTree(dest)).toEqual(expectedTree(home));
    }
    const entries = indexOf(home);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.tid).toBe(readFileSync(join(home, "A", databasePath(format, "x.serial"))).toString("hex").toUpperCase());
  });

  test("full then incrementals, extracted in order, reproduce A/ exactly", () => {
    const { home } = newStorage(format);
    expect(dsbackup(["--storage", home, "prefix", "s", "full"]).status).toBe(0);
    for (let day = 0; day < 3; day++) {
      appendTransactions(home, { count: 5 + day, objectsPerTransaction: 3, seed: 100 + day });
      const r = dsbackup(["--storage", home, "prefix", "s", "inc", String(NOW() + 10)]);
      expect(r.stderr).toContain("incremental backup complete");
      expect(r.status).toBe(0);
    }
    expect(filesIn(join(home, "backups"))).toEqual(["s-1-to-2.tgz", "s-1.tgz", "s-2-to-3.tgz", "s-3-to-4.tgz", "tindex"]);
    for (const tool of extractors) {
      const dest = tempDir(`chain-${tool}`);
      for (const name of ["s-1.tgz", "s-1-to-2.tgz", "s-2-to-3.tgz", "s-3-to-4.tgz"]) extractWith(tool, join(home, "backups", name), dest);
      expect(extractedTree(dest)).toEqual(expectedTree(home));
    }
  });
});

describe("incremental contents", () => {
  test("exactly the files the transaction chain names", () => {
    const { home } = newStorage("bushy");
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const { tids } = appendTransactions(home, { count: 3, objectsPerTransaction: 2, seed: 9 });
    expect(dsbackup(["--storage", home, "inc", String(NOW() + 5)]).status).toBe(0);
    const names = listArchive(join(home, "backups", "backup-1-to-2.tgz"));
    expect(names.slice(0, 2)).toEqual(["A/x/serial", "A/x/oid"]);
    const transactionFiles = names.filter((n) => n.startsWith("A/t"));
    expect(transactionFiles).toHaveLength(3);
    // newest first, following the previous-tid chain
    expect(transactionFiles[0]).toBe(`A/${databasePath("bushy", `t${tids[2]!.slice(0, 6)}.${tids[2]!.slice(6)}`)}`);
    expect(names.filter((n) => n.endsWith("/c")).length).toBe(new Set(names.filter((n) => n.endsWith("/c"))).size);
    expect(names.some((n) => n.includes("packed"))).toBe(false);
  });

  test("prefix x full inc WHEN: two archives, one sequence number, one index line", () => {
    const { home } = newStorage("chunky");
    expect(dsbackup(["--storage", home, "prefix", "x", "full"]).status).toBe(0);
    appendTransactions(home, { count: 2, seed: 5 });
    const r = dsbackup(["--storage", home, "prefix", "x", "full", "inc", String(NOW() + 5)]);
    expect(r.status).toBe(0);
    expect(filesIn(join(home, "backups"))).toEqual(["tindex", "x-1-to-2.tgz", "x-1.tgz", "x-2.tgz"].sort());
    expect(indexOf(home).map((e) => e.seq)).toEqual([1, 2]);
  });

  test("nothing changed: no archive, no index line, exit 0", () => {
    const { home } = newStorage("lawn");
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const r = dsbackup(["--storage", home, "inc", String(NOW() + 5)]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("Ignoring empty incremental backup");
    expect(filesIn(join(home, "backups"))).toEqual(["backup-1.tgz", "tindex"]);
    expect(indexOf(home)).toHaveLength(1);
  });

  test("the reference is the last backup not newer than WHEN", () => {
    const { home } = newStorage("flat");
    writeFileSync(join(home, "backups", "tindex"), "# old index\n1     1000         0000000000000000\n");
    // 2000 is after backup 1 (timestamp 1000): reference 1; the chain walks back to tid zero.
    expect(dsbackup(["--storage", home, "inc", "2000"]).status).toBe(0);
    expect(existsSync(join(home, "backups", "backup-1-to-2.tgz"))).toBe(true);
    // 999 is before every backup: no reference.
    const r = dsbackup(["--storage", home, "inc", "999"]);
    expect(r.status).toBe(13);
    expect(r.stderr).toContain("No previous backup");
  });

  test("no previous backup: exit 13, --or-full takes a full one", () => {
    const { home } = newStorage("flat");
    const r = dsbackup(["--storage", home, "inc", "36 hours ago"]);
    expect(r.status).toBe(13);
    expect(existsSync(join(home, "backups", "tindex"))).toBe(false);
    const f = dsbackup(["--storage", home, "--or-full", "inc", "36 hours ago"]);
    expect(f.status).toBe(0);
    expect(f.stderr).toContain("taking a full backup instead");
    expect(filesIn(join(home, "backups"))).toEqual(["backup-1.tgz", "tindex"]);
  });

  test("packed since the reference: refused, a full backup is needed", () => {
    const { home } = newStorage("bushy");
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const { newestTid } = appendTransactions(home, { count: 3, seed: 4, newObjects: 0 });
    packStorage(home, newestTid);
    const r = dsbackup(["--storage", home, "inc", String(NOW() + 5)]);
    expect(r.status).toBe(13);
    expect(r.stderr).toMatch(/packed .* full backup is needed/);
    expect(indexOf(home)).toHaveLength(1);
  });

  test("reference in the future: refused", () => {
    const { home } = newStorage("bushy");
    writeFileSync(join(home, "backups", "tindex"), "1     1000         7FFFFFFFFFFFFFFF\n");
    const r = dsbackup(["--storage", home, "inc", "2000"]);
    expect(r.status).toBe(13);
    expect(r.stderr).toContain("in the future");
  });

  test("a file the chain names but that is missing: error naming it, nothing written", () => {
    const { home } = newStorage("chunky");
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const { tids } = appendTransactions(home, { count: 2, objectsPerTransaction: 1, seed: 11, newObjects: 1 });
    const tname = `t${tids[0]!.slice(0, 6)}.${tids[0]!.slice(6)}`;
    const victim = join(home, "A", databasePath("chunky", tname));
    unlinkSync(victim);
    const before = readFileSync(join(home, "backups", "tindex"), "utf8");
    const r = dsbackup(["--storage", home, "inc", String(NOW() + 5)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(victim);
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^dsbackup: /);
    expect(filesIn(join(home, "backups"))).toEqual(["backup-1.tgz", "tindex"]);
    expect(readFileSync(join(home, "backups", "tindex"), "utf8")).toBe(before);
  });
});

describe("refusals", () => {
  test("not a storage, no backups/, wrong classname, unknown format, bad settings", () => {
    const dir = tempDir("refuse");
    let r = dsbackup(["--storage", join(dir, "nope"), "full"]);
    expect([r.status, r.stderr]).toEqual([10, expect.stringContaining("Not a storage")]);
    const { home } = newStorage("flat", 2);
    rmSync(join(home, "backups"), { recursive: true });
    r = dsbackup(["--storage", home, "full"]);
    expect(r.status).toBe(10);
    expect(r.stderr).toContain("mkdir");
    mkdirSync(join(home, "backups"));
    writeFileSync(join(home, "config", "settings"), "[storage]\nclassname: Minimal\n[structure]\nformat: flat\n");
    r = dsbackup(["--storage", home, "full"]);
    expect([r.status, r.stderr]).toEqual([10, expect.stringContaining("Full storage")]);
    writeFileSync(join(home, "config", "settings"), "[storage]\nclassname: Full\n[structure]\nformat: grassy\n");
    r = dsbackup(["--storage", home, "full"]);
    expect([r.status, r.stderr]).toEqual([10, expect.stringContaining("unknown format")]);
    writeFileSync(join(home, "config", "settings"), "[storage\nclassname Full\n");
    r = dsbackup(["--storage", home, "full"]);
    expect(r.status).toBe(10);
    expect(filesIn(join(home, "backups"))).toEqual([]);
  });

  test("no misc/snapshot and nodirect: refused as not a snapshot, naming the causes", () => {
    const { home } = newStorage("flat", 2);
    unlinkSync(join(home, "misc", "snapshot"));
    writeFileSync(join(home, "config", "snapshot.conf"), "nodirect\n");
    const r = dsbackup(["--storage", home, "full"]);
    expect(r.status).toBe(12);
    expect(r.stderr).toContain("misc/snapshot does not exist");
    expect(r.stderr).toContain("nodirect");
    expect(r.stderr).toMatch(/running without .*crashed.*quick_shutdown/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(filesIn(join(home, "backups"))).toEqual([]);
    expect(existsSync(join(home, "misc", "snapshot"))).toBe(false);
  });

  test("bad time strings and bad commands are usage errors", () => {
    const { home } = newStorage("flat", 2);
    for (const args of [["inc", "36 hourz ago"], ["inc"], ["fulll"], ["prefix", "../x", "full"], ["--level", "12", "full"], ["--bogus", "full"]]) {
      const r = dsbackup(["--storage", home, ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toContain("    at ");
    }
  });

  test.skipIf(!tools.python)("flock interoperates with Python both ways", async () => {
    const { home } = newStorage("flat", 2);
    const sublock = join(home, "misc", "sublock");
    // Python holds the sublock (as a running storage does): we must fail with exit 11.
    const holder = await holdFlockWithPython(sublock);
    const r = dsbackup(["--storage", home, "full"]);
    await holder.release();
    expect(r.status).toBe(11);
    expect(r.stderr).toContain("locked by another process");
    // Our lock must make Python's non-blocking flock fail.
    const { tryLockFile } = await import("../../src/snapshot/lock.ts");
    const lock = tryLockFile(sublock)!;
    expect(lock).not.toBeNull();
    const py = pythonTriesFlock(sublock);
    lock.release();
    expect(py).toBe("busy");
  });
});

describe("under the snapshot tool", () => {
  test("uses SNAPSHOT_* instead of locking; checks version, directory, timestamp", () => {
    const { home } = newStorage("lawn", 3);
    const env = (over: Record<string, string>) => ({ SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: home, SNAPSHOT_TIMESTAMP: String(NOW() - 60), ...over });
    let r = dsbackup(["full"], { env: env({ SNAPSHOT_VERSION: "3" }) });
    expect([r.status, r.stderr]).toEqual([12, expect.stringContaining("SNAPSHOT_VERSION")]);
    r = dsbackup(["full"], { env: env({ SNAPSHOT_TIMESTAMP: String(NOW() + 3600) }) });
    expect([r.status, r.stderr]).toEqual([12, expect.stringContaining("future")]);
    r = dsbackup(["full"], { env: env({ SNAPSHOT_TIMESTAMP: String(NOW() - 13 * 3600) }) });
    expect([r.status, r.stderr]).toEqual([12, expect.stringContaining("12 hours")]);
    r = dsbackup(["--storage", tempDir("other"), "full"], { env: env({}) });
    expect([r.status, r.stderr]).toEqual([12, expect.stringContaining("differs from SNAPSHOT_DIRECTORY")]);
    // The storage's own lock is not needed: hold it elsewhere and still succeed.
    unlinkSync(join(home, "misc", "snapshot"));
    const ts = NOW() - 120;
    r = dsbackup(["full"], { env: env({ SNAPSHOT_TIMESTAMP: String(ts) }) });
    expect(r.status).toBe(0);
    expect(indexOf(home)[0]!.timestamp).toBe(ts);
  });

  test("no --storage and no snapshot tool: usage error", () => {
    const r = dsbackup(["full"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--storage");
  });
});

describe("streaming to standard output", () => {
  test("--output - writes the archive to stdout and then the index line", () => {
    const { home } = newStorage("bushy", 4);
    const out = join(tempDir("stdout"), "a.tgz");
    const r = spawnSync("sh", ["-c", `"$0" --storage "$1" --output - full > "$2"`, join(import.meta.dir, "../../dist/dsbackup"), home, out], { encoding: "utf8", env: { PATH: process.env.PATH!, TZ: "UTC" } });
    expect(r.status).toBe(0);
    expect(listArchive(out)).toContain("A/x/serial");
    expect(filesIn(join(home, "backups"))).toEqual(["tindex"]);
    expect(indexOf(home)).toHaveLength(1);
    expect(r.stderr).toContain("standard output (name it backup-1.tgz)");
    // The index line says where the archive went; verify and list do not call it missing.
    expect(readFileSync(join(home, "backups", "tindex"), "utf8")).toContain("# stdout backup-1.tgz");
    expect(indexOf(home)[0]!.streamedAs).toBe("backup-1.tgz");
    const v = dsbackup(["--storage", home, "verify"]);
    expect(v.status).toBe(0);
    expect(dsbackup(["--storage", home, "list"]).stdout).toContain("written to standard output as backup-1.tgz");
    // Put where it belongs, it restores like any other.
    writeFileSync(join(home, "backups", "backup-1.tgz"), readFileSync(out));
    const dest = join(tempDir("stdout-restore"), "r");
    expect(dsbackup(["restore", "--backups", join(home, "backups"), "--to", dest]).status).toBe(0);
    expect(extractedTree(dest)).toEqual(expectedTree(home));
  });

  test("a leftover whose process still seems alive keeps its number; once dead it is removed, not completed", async () => {
    const { home } = newStorage("bushy", 4);
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const sleeper = spawn("sleep", ["60"]);
    const leftover = join(home, "backups", `.tmp-${hostname()}-${sleeper.pid}-backup-2.tgz`);
    writeFileSync(leftover, "half an archive");
    appendTransactions(home, { count: 2, seed: 8 });
    const first = dsbackup(["--storage", home, "inc", String(NOW() + 5)]);
    expect(first.status).toBe(0);
    expect(existsSync(join(home, "backups", "backup-1-to-3.tgz"))).toBe(true); // 2 is the leftover's
    expect(existsSync(leftover)).toBe(true);
    sleeper.kill();
    await new Promise((ok) => sleeper.once("exit", ok));
    const second = dsbackup(["--storage", home, "full"]);
    expect(second.status).toBe(0);
    expect(second.stderr).toContain(`Removed ${leftover}`);
    expect(filesIn(join(home, "backups"))).toEqual(["backup-1-to-3.tgz", "backup-1.tgz", "backup-4.tgz", "tindex"]);
    expect(dsbackup(["--storage", home, "verify"]).status).toBe(0);
  });

  test("a dead run's leftover is removed, never completed, when another run took its sequence", () => {
    const { home } = newStorage("bushy", 4);
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const leftover = join(home, "backups", `.tmp-${hostname()}-999999-backup-2.tgz`);
    writeFileSync(leftover, "half an archive");
    appendTransactions(home, { count: 2, seed: 8 });
    const env = { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: home, SNAPSHOT_TIMESTAMP: String(NOW()) };
    const under = dsbackup(["inc", String(NOW())], { env });
    expect(under.status).toBe(0);
    expect(under.stderr).toContain("Removed");
    expect(existsSync(leftover)).toBe(false);
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    expect(filesIn(join(home, "backups"))).toEqual(["backup-1-to-2.tgz", "backup-1.tgz", "backup-3.tgz", "tindex"]);
    expect(dsbackup(["--storage", home, "verify"]).status).toBe(0);
  });
});

describe("compiled binary with compression workers", () => {
  test("a multi-block archive (--jobs 2) is complete and passes gzip -t", () => {
    const home = join(tempDir("big"), "storage");
    createStorage(home, { format: "bushy", transactions: 400, objectsPerTransaction: 6, pickleBytes: [900, 1500], seed: 21 });
    const r = dsbackup(["--storage", home, "--jobs", "2", "full"]);
    expect(r.stderr).not.toContain("worker");
    expect(r.status).toBe(0);
    const archive = join(home, "backups", "backup-1.tgz");
    expect(spawnSync("gzip", ["-t", archive]).status).toBe(0);
    expect(listArchive(archive).filter((n) => !n.endsWith("/")).sort()).toEqual([...expectedTree(home).keys()].sort());
  });
});
