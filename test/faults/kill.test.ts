// Killing a backup at several points: nothing may appear under a final name,
// the index and the storage stay as they were, the kernel drops the lock, and
// the next run cleans up (or completes) exactly what the dead run left.
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { dsbackup, listArchive, tempDir } from "../helpers.ts";
import {
  HOST,
  canStrace,
  expectError,
  expectLockFree,
  expectUnchanged,
  finalArchives,
  runCommand,
  sizeOf,
  startDsbackup,
  storageState,
  straceArgs,
  tempFiles,
  waitFor,
} from "./common.ts";

/** An index with one earlier backup, so "unchanged" compares real content. */
const BASELINE_INDEX = "# index of earlier backups\n1     1700000000   0000000000000000\n";

let home: string;
let backups: string;
let expectedSize: number;

function resetBackups(): void {
  for (const name of readdirSync(backups)) rmSync(join(backups, name));
  writeFileSync(join(backups, "tindex"), BASELINE_INDEX);
}

beforeAll(() => {
  // Big enough that a level-9 single-job backup takes about half a second (~1.6 MB of gzip).
  home = join(tempDir("kill"), "storage");
  createStorage(home, { format: "bushy", transactions: 200, objectsPerTransaction: 6, pickleBytes: [3000, 6000], seed: 5 });
  backups = join(home, "backups");
  resetBackups();
  const r = dsbackup(["--storage", home, "-q", "full"]);
  if (r.status !== 0) throw new Error(`fixture backup failed: ${r.stderr}`);
  expectedSize = sizeOf(join(backups, "backup-2.tgz"));
});

beforeEach(resetBackups);

const SLOW = ["--jobs", "1", "--level", "9"];

interface KillPoint {
  name: string;
  words: string[];
  jobs: string[];
  /** True once the run has reached the point where it is to be killed. */
  reached: (pid: number) => boolean;
}

const ownTemps = (pid: number) => tempFiles(home).filter((n) => n.startsWith(`.tmp-${HOST}-${pid}-`));

const points: KillPoint[] = [
  {
    name: "as soon as the temporary archive appears",
    words: ["full"],
    jobs: SLOW,
    reached: (pid) => ownTemps(pid).length > 0,
  },
  {
    name: "half way through the archive (two compression workers)",
    words: ["full"],
    jobs: ["--jobs", "2", "--level", "9"],
    reached: (pid) => ownTemps(pid).some((n) => sizeOf(join(backups, n)) >= expectedSize / 2),
  },
  {
    name: "writing the second archive of `prefix a full prefix b full` (the first one complete)",
    words: ["prefix", "a", "full", "prefix", "b", "full"],
    jobs: SLOW,
    reached: (pid) => ownTemps(pid).some((n) => n.endsWith("-b-2.tgz")),
  },
];

/** Files a later run must leave alone: other hosts', live processes', not ours at all. */
function plantForeignFiles(): string[] {
  const names = [
    ".tmp-otherhost-12345-backup-2.tgz",
    `.tmp-${HOST}-${process.pid}-backup-2.tgz`, // this test process: alive
    `.tmp-${HOST}-notapid-backup-2.tgz`,
    ".tmp-notes",
    "notes.txt",
  ];
  for (const name of names) writeFileSync(join(backups, name), "not dsbackup's to remove\n");
  return names;
}

describe.each(["SIGKILL", "SIGTERM"] as const)("%s during a full backup", (signal) => {
  test.each(points)("$name", async (point) => {
    const before = storageState(home);
    const run = startDsbackup(["--storage", home, ...point.jobs, ...point.words]);
    const pid = run.child.pid!;
    await waitFor("the kill point", () => point.reached(pid) || run.child.exitCode !== null);
    // Freeze it exactly here, then deliver the signal.
    run.child.kill("SIGSTOP");
    expect(run.child.exitCode).toBeNull(); // the fixture is big enough to catch it mid-run
    expect(finalArchives(home)).toEqual([]);
    run.child.kill(signal);
    run.child.kill("SIGCONT");
    const result = await run.done;

    if (signal === "SIGKILL") {
      expect(result.signal).toBe("SIGKILL");
      expect(ownTemps(pid).length).toBeGreaterThan(0); // what the next run must clean up
    } else {
      expectError({ status: result.code, stderr: result.stderr }, 130, "interrupted by SIGTERM", "nothing was committed");
      expect(tempFiles(home)).toEqual([]);
    }
    expectUnchanged(home, before);
    expectLockFree(home);

    // The next run succeeds and removes the dead run's files, and only those.
    const left = ownTemps(pid);
    const foreign = plantForeignFiles();
    const next = dsbackup(["--storage", home, "full"]);
    expect(next.status).toBe(0);
    for (const name of left) expect(next.stderr).toContain(`Removed ${join(backups, name)}: left unfinished by process ${pid}`);
    expect(next.stderr.match(/Removed /g)?.length ?? 0).toBe(left.length);
    expect(tempFiles(home).filter((n) => !foreign.includes(n))).toEqual([]);
    for (const name of foreign) expect(readFileSync(join(backups, name), "utf8")).toBe("not dsbackup's to remove\n");
    // Sequence 2 is carried by the foreign leftovers, so it is never reused.
    expect(finalArchives(home)).toEqual(["backup-3.tgz"]);
    expect(spawnSync("gzip", ["-t", join(backups, "backup-3.tgz")]).status).toBe(0);
    expect(readFileSync(join(backups, "tindex"), "utf8").startsWith(BASELINE_INDEX)).toBe(true);
    expect(readFileSync(join(backups, "tindex"), "utf8").split("\n").filter((l) => /^\d/.test(l))).toHaveLength(2);
  });
});

describe("streaming to a pipe nobody reads (--output -)", () => {
  test.each(["SIGKILL", "SIGTERM"] as const)("%s while blocked writing: index and backups/ unchanged", async (signal) => {
    const before = storageState(home);
    const run = startDsbackup(["--storage", home, "--output", "-", "full"], { stdout: "pipe" });
    await waitFor("the stream to start", () => run.stderr().includes("Creating full backup standard output"));
    await Bun.sleep(300); // the pipe (64 KiB) is full long before the ~1.6 MB archive is written
    expect(run.child.exitCode).toBeNull();
    run.child.kill(signal);
    const result = await run.done;
    if (signal === "SIGKILL") expect(result.signal).toBe("SIGKILL");
    else expectError({ status: result.code, stderr: result.stderr }, 130, "interrupted by SIGTERM");
    expectUnchanged(home, before);
    expect(tempFiles(home)).toEqual([]);
    expectLockFree(home);
  });
});

// strace stops the run at exact system calls: the archive's fsync, the
// index's rename (the commit point) and the archive's rename after it.
if (!canStrace) console.warn("SKIP: strace not usable here (apt-get install strace); kills at exact system calls are not tested");
describe.skipIf(!canStrace)("SIGKILL at exact system calls (strace fault injection)", () => {
  let small: string;
  beforeAll(() => {
    small = join(tempDir("kill-at"), "storage");
    createStorage(small, { format: "chunky", transactions: 6, objectsPerTransaction: 3, seed: 8 });
  });
  beforeEach(() => {
    const dir = join(small, "backups");
    for (const name of readdirSync(dir)) rmSync(join(dir, name));
    writeFileSync(join(dir, "tindex"), BASELINE_INDEX);
  });
  const killAt = (inject: string[]) => runCommand(straceArgs(inject), ["--storage", small, "full"]);

  test("before the archive is fsynced: the next run removes it", () => {
    const before = storageState(small);
    const r = killAt(["-e", "trace=fsync", "-e", "inject=fsync:signal=KILL:when=1"]);
    expect(r.status).toBe(137);
    expectUnchanged(small, before);
    const left = tempFiles(small);
    expect(left).toHaveLength(1);
    expectLockFree(small);
    const next = dsbackup(["--storage", small, "full"]);
    expect(next.status).toBe(0);
    expect(next.stderr).toContain(`Removed ${join(small, "backups", left[0]!)}: left unfinished`);
    expect(tempFiles(small)).toEqual([]);
    expect(finalArchives(small)).toEqual(["backup-2.tgz"]);
  });

  test("at the index's rename (archive sealed, index not committed): both temporary files removed next run", () => {
    const before = storageState(small);
    const r = killAt(["-e", "trace=rename,renameat,renameat2", "-e", "inject=rename,renameat,renameat2:error=EIO:signal=KILL:when=1"]);
    expect(r.status).toBe(137);
    expectUnchanged(small, before);
    const left = tempFiles(small);
    expect(left.map((n) => n.replace(/^\.tmp-.*-\d+-/, ""))).toEqual(["backup-2.tgz", "tindex"]);
    const next = dsbackup(["--storage", small, "full"]);
    expect(next.status).toBe(0);
    for (const name of left) expect(next.stderr).toContain(`Removed ${join(small, "backups", name)}`);
    expect(tempFiles(small)).toEqual([]);
    expect(finalArchives(small)).toEqual(["backup-2.tgz"]);
    expect(readFileSync(join(small, "backups", "tindex"), "utf8").split("\n").filter((l) => /^\d/.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(["1", "2"]);
  });

  test("after the index's rename, before the archive's: the next run completes the committed archive", () => {
    const before = storageState(small);
    const r = killAt(["-e", "trace=rename,renameat,renameat2", "-e", "inject=rename,renameat,renameat2:error=EIO:signal=KILL:when=2"]);
    expect(r.status).toBe(137);
    // Committed: the index has line 2; the archive is complete under its temporary name.
    const index = readFileSync(join(small, "backups", "tindex"), "utf8");
    expect(index.startsWith(before.tindex!)).toBe(true);
    expect(index.slice(before.tindex!.length)).toMatch(/^2 +\d+ +[0-9A-F]{16}  # sha256 backup-2\.tgz \d+ [0-9a-f]{64}\n$/);
    expect(finalArchives(small)).toEqual([]);
    const [temp] = tempFiles(small);
    expect(temp).toMatch(/-backup-2\.tgz$/);
    expect(spawnSync("gzip", ["-t", join(small, "backups", temp!)]).status).toBe(0);
    const next = dsbackup(["--storage", small, "full"]);
    expect(next.status).toBe(0);
    expect(next.stderr).toContain(`Completed ${join(small, "backups", "backup-2.tgz")}`);
    expect(next.stderr).toContain("This is backup sequence number 3");
    expect(finalArchives(small)).toEqual(["backup-2.tgz", "backup-3.tgz"]);
    expect(tempFiles(small)).toEqual([]);
    expect(listArchive(join(small, "backups", "backup-2.tgz"))).toEqual(listArchive(join(small, "backups", "backup-3.tgz")));
  });
});
