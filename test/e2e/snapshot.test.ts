// End-to-end: live backups through a toolkit on loopback, the snapshot
// command (environment, exit status, retries, signals, old form), and backups
// of crashed storages rolled forward in direct mode.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createStorage, readTree } from "../fixtures/generator.ts";
import { buildCrashedStorage, type CrashPlan } from "../fixtures/crash.ts";
import { startToolkit, type Toolkit } from "../fixtures/toolkit.ts";
import { BINARY, dsbackup, dsbackupAsync, filesIn, holdFlockWithPython, listArchive, tempDir, tools } from "../helpers.ts";
import { databasePath, transactionName, type Format } from "../../src/storage/names.ts";
import { tryLockFile } from "../../src/snapshot/lock.ts";
import { parseIndex } from "../../src/index/tindex.ts";

const PASSWORD = "s3cret-Pw";
const running: Toolkit[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
});

if (!tools.python) console.warn("SKIP: python3 not installed; live-storage (toolkit) and lock-retry tests need its fcntl.flock holder");

function storage(label: string, format: "bushy" | "chunky" | "lawn" | "flat" = "bushy") {
  const home = join(tempDir(label), "storage");
  createStorage(home, { format, transactions: 5, objectsPerTransaction: 3, seed: 9 });
  writeFileSync(join(home, "config", "access"), `admin:${PASSWORD}\n`);
  writeFileSync(join(home, "config", "wrong-access"), "admin:not-the-password\n");
  return home;
}

async function liveStorage(label: string) {
  const home = storage(label);
  const toolkit = await startToolkit(home, { user: "admin", password: PASSWORD });
  running.push(toolkit);
  return { home, toolkit };
}

/** The storage is back to normal running: not in snapshot mode, its sublock held by the storage. */
function expectLiveAgain(home: string) {
  expect(existsSync(join(home, "misc", "snapshot"))).toBe(false);
  const lock = tryLockFile(join(home, "misc", "sublock"));
  lock?.release();
  expect(lock).toBeNull();
}

describe.skipIf(!tools.python)("live storage with a toolkit", () => {
  test("dsbackup --storage DIR full enters snapshot mode over XML-RPC and leaves it afterwards", async () => {
    const { home, toolkit } = await liveStorage("live-full");
    writeFileSync(join(home, "config", "snapshot.conf"), `# the live Zope\nhttp ${toolkit.url} access\n`);
    // Without snapshot mode the backup is refused: the storage holds its sublock.
    const run = dsbackupAsync(["--storage", home, "full"]);
    const r = await run.done;
    expect(r.stderr).toContain(`Entered snapshot mode using ${toolkit.url}`);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("Left snapshot mode");
    expect(filesIn(join(home, "backups"))).toEqual(["backup-1.tgz", "tindex"]);
    const code = `${hostname()}-${run.child.pid}`;
    expect(toolkit.calls).toEqual([
      { method: "enterSnapshot", code, authorized: true },
      { method: "leaveSnapshot", code, authorized: true },
    ]);
    expectLiveAgain(home);
    expect(r.stderr).not.toContain(PASSWORD);
  });

  test("dsbackup snapshot --storage DIR -- dsbackup full: the command runs inside snapshot mode", async () => {
    const { home, toolkit } = await liveStorage("live-snap");
    writeFileSync(join(home, "config", "snapshot.conf"), `http ${toolkit.url} access\n`);
    const before = Math.floor(Date.now() / 1000);
    const r = await dsbackupAsync(["snapshot", "--storage", home, "--", BINARY, "full"]).done;
    expect(r.stderr).toContain("Locked snapshot mode");
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("This is backup sequence number 1");
    expect(r.stderr).toMatch(/Unlocked snapshot mode[\s\S]*Left snapshot mode/);
    expect(toolkit.calls.map((c) => c.method)).toEqual(["enterSnapshot", "leaveSnapshot"]);
    // The backup used SNAPSHOT_TIMESTAMP, taken just before entering snapshot mode.
    const [entry] = parseIndex(readFileSync(join(home, "backups", "tindex"), "utf8"), "tindex");
    expect(entry!.timestamp).toBeGreaterThanOrEqual(before);
    expect(entry!.timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expectLiveAgain(home);
  });

  test("COMMAND sees SNAPSHOT_*; its exit status is returned; its arguments are untouched", async () => {
    const { home, toolkit } = await liveStorage("live-env");
    // --snapshot-conf elsewhere: ACCESS is relative to that file's folder.
    const confDir = tempDir("conf");
    writeFileSync(join(confDir, "snap.conf"), `nodirect\nhttp ${toolkit.url} pw\n`);
    writeFileSync(join(confDir, "pw"), `admin:${PASSWORD}\n`);
    const script = 'echo "$SNAPSHOT_VERSION|$SNAPSHOT_DIRECTORY|$SNAPSHOT_TIMESTAMP|$1 $2 $3"; test -f "$SNAPSHOT_DIRECTORY/misc/snapshot" || exit 99; exit 3';
    const r = await dsbackupAsync(["snapshot", "-q", "--storage", home, `--snapshot-conf=${join(confDir, "snap.conf")}`, "sh", "-c", script, "sh", "--storage", "-t", "-v"]).done;
    expect(r.status).toBe(3);
    const [version, dir, ts, args] = r.stdout.trim().split("|");
    expect([version, dir, args]).toEqual(["2", home, "--storage -t -v"]);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(30);
    expect(r.stderr).toBe(""); // -q
    expectLiveAgain(home);
  });

  test("a wrong password falls through to the next line; it never appears in output", async () => {
    const { home, toolkit } = await liveStorage("live-auth");
    writeFileSync(join(home, "config", "snapshot.conf"), `http ${toolkit.url} wrong-access\nhttp ${toolkit.url} access\n`);
    const r = await dsbackupAsync(["snapshot", "-v", "--storage", home, "--", BINARY, "full"]).done;
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("HTTP 401");
    expect(toolkit.calls.map((c) => [c.method, c.authorized])).toEqual([
      ["enterSnapshot", false],
      ["enterSnapshot", true],
      ["leaveSnapshot", true],
    ]);
    expect(r.stderr).not.toContain("not-the-password");
    expect(r.stderr).not.toContain(PASSWORD);
    expectLiveAgain(home);
  });

  test("only wrong passwords and faults: direct fails too (the storage holds misc/lock): exit 11, nothing changed", async () => {
    const { home, toolkit } = await liveStorage("live-refused");
    toolkit.faultNext = true;
    writeFileSync(join(home, "config", "snapshot.conf"), `http ${toolkit.url} access\nhttp ${toolkit.url} wrong-access\nhttp http://127.0.0.1:1/ access\n`);
    const r = await dsbackupAsync(["-q", "--storage", home, "full"]).done;
    expect(r.status).toBe(11);
    expect(r.stderr).toContain("locked by another process");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(filesIn(join(home, "backups"))).toEqual([]);
    expect(toolkit.active.size).toBe(0);
    expectLiveAgain(home);
    // With -v the reason of every method is shown: fault, 401, refused connection, held lock.
    toolkit.faultNext = true;
    const v = await dsbackupAsync(["snapshot", "-v", "--storage", home, "true"]).done;
    expect(v.status).toBe(11);
    expect(v.stderr).toContain("fault 1: snapshot mode is not available");
    expect(v.stderr).toContain("HTTP 401");
    expect(v.stderr).toContain("connection refused");
    expect(v.stderr).toContain("misc/lock is held");
    expect(v.stderr).not.toContain(PASSWORD);
  });

  test("SIGTERM is passed to COMMAND and snapshot mode is still left", async () => {
    const { home, toolkit } = await liveStorage("live-signal");
    writeFileSync(join(home, "config", "snapshot.conf"), `http ${toolkit.url} access\n`);
    const run = dsbackupAsync(["snapshot", "--storage", home, "--", "sh", "-c", 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done']);
    const deadline = Date.now() + 20_000;
    while (!run.stdout().includes("ready") && Date.now() < deadline) await Bun.sleep(50);
    run.child.kill("SIGTERM");
    const r = await run.done;
    expect(r.stdout).toContain("got-term");
    expect(r.status).toBe(7);
    expect(r.stderr).toContain("Passing SIGTERM");
    expect(r.stderr).toContain("Left snapshot mode");
    expect(toolkit.calls.map((c) => c.method)).toEqual(["enterSnapshot", "leaveSnapshot"]);
    expectLiveAgain(home);
  });
});

test.skipIf(!tools.python)("Ctrl-C (SIGINT to the whole process group): COMMAND stops, snapshot mode is left", async () => {
  const { home, toolkit } = await liveStorage("live-ctrlc");
  writeFileSync(join(home, "config", "snapshot.conf"), `http ${toolkit.url} access\n`);
  const run = dsbackupAsync(["snapshot", "--storage", home, "--", "sh", "-c", 'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 0.1; done'], { detached: true });
  const deadline = Date.now() + 20_000;
  while (!run.stdout().includes("ready") && Date.now() < deadline) await Bun.sleep(50);
  process.kill(-run.child.pid!, "SIGINT");
  const r = await run.done;
  expect(r.status).toBe(9);
  expect(r.stderr).toContain("Left snapshot mode");
  expectLiveAgain(home);
});

describe.skipIf(!tools.python)("retrying while another process holds the lock", () => {
  test("-t waits for a python3 flock holder and succeeds once it lets go", async () => {
    const home = storage("retry");
    const holder = await holdFlockWithPython(join(home, "misc", "sublock"));
    const started = Date.now();
    const run = dsbackupAsync(["snapshot", "--storage", home, "-t", "30", "-s", "1", "--", BINARY, "full"]);
    await Bun.sleep(2500);
    await holder.release();
    const r = await run.done;
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(1500);
    expect(r.stderr.match(/Retrying snapshot in 1 s/g)!.length).toBeGreaterThanOrEqual(2);
    expect(filesIn(join(home, "backups"))).toContain("backup-1.tgz");
  });

  test("without -t (or when -t runs out) a held lock is exit 11 and COMMAND never runs", async () => {
    const home = storage("retry-out");
    const holder = await holdFlockWithPython(join(home, "misc", "sublock"));
    try {
      const marker = join(home, "ran");
      let r = await dsbackupAsync(["snapshot", "--storage", home, "--", "touch", marker]).done;
      expect(r.status).toBe(11);
      expect(r.stderr).not.toContain("Retrying");
      r = await dsbackupAsync(["snapshot", "--storage", home, "-t2", "-s1", "--", "touch", marker]).done;
      expect(r.status).toBe(11);
      expect(r.stderr).toContain("Retrying snapshot");
      expect(existsSync(marker)).toBe(false);
    } finally {
      await holder.release();
    }
  });

  test("SIGINT during the retry sleep: exit 130", async () => {
    const home = storage("retry-int");
    const holder = await holdFlockWithPython(join(home, "misc", "sublock"));
    try {
      const run = dsbackupAsync(["snapshot", "--storage", home, "-t", "60", "-s", "5", "--", "true"]);
      await Bun.sleep(700);
      run.child.kill("SIGINT");
      const r = await run.done;
      expect(r.status).toBe(130);
      expect(r.stderr).toContain("interrupted");
    } finally {
      await holder.release();
    }
  });
});

/** A crashed storage and the state a clean shutdown would have left; `beforeCrash` runs on the stopped original. */
function crashedStorage(label: string, format: Format, plan: CrashPlan, beforeCrash?: (base: string) => void) {
  const dir = tempDir(label);
  const base = join(dir, "base");
  createStorage(base, { format, transactions: 5, objectsPerTransaction: 3, seed: 21 });
  beforeCrash?.(base);
  const expected = join(dir, "expected");
  const crashed = join(dir, "crashed");
  return { crashed, expected, ...buildCrashedStorage(base, format, expected, crashed, plan) };
}

describe("stopped and crashed storages (direct mode)", () => {
  test("old form, exit statuses, and a stopped storage needing no roll-forward", () => {
    const home = storage("old-form", "flat");
    let r = dsbackup(["snapshot", home, "-", "sh", "-c", 'test "$SNAPSHOT_VERSION" = 2 && exit 5']);
    expect(r.status).toBe(5);
    r = dsbackup(["snapshot", "--storage", home, "--", "no-such-command-here"]);
    expect([r.status, r.stderr]).toEqual([127, expect.stringContaining("command not found")]);
    r = dsbackup(["snapshot", "--storage", home, "-t", "soon", "true"]);
    expect(r.status).toBe(2);
    r = dsbackup(["snapshot", home]);
    expect(r.status).toBe(2);
    r = dsbackup(["snapshot", "--storage", join(home, "nope"), "true"]);
    expect(r.status).toBe(10);
    r = dsbackup(["snapshot", "--help"]);
    expect([r.status, r.stdout]).toEqual([0, expect.stringContaining("--snapshot-conf FILE")]);
    expect(existsSync(join(home, "misc", "snapshot"))).toBe(true);
  });

  test.each(["bushy", "lawn"] as const)("crashed %s storage: a backup rolls it forward; the incremental holds the rolled-forward transactions", (format) => {
    const { crashed, expected, rolled, incomplete } = crashedStorage(`crash-${format}`, format, { inB: 1, done: 3, temp: true }, (base) => {
      expect(dsbackup(["--storage", base, "full"]).status).toBe(0);
    });

    // With nodirect the crash is refused with the three causes.
    writeFileSync(join(crashed, "config", "snapshot.conf"), "nodirect\n");
    let r = dsbackup(["--storage", crashed, "inc", String(Math.floor(Date.now() / 1000))]);
    expect(r.status).toBe(12);
    expect(r.stderr).toMatch(/crashed/);

    // Under the snapshot tool with direct (the default without snapshot.conf).
    writeFileSync(join(crashed, "config", "snapshot.conf"), "# stopped storage\ndirect\n");
    r = dsbackup(["snapshot", "--storage", crashed, "--", BINARY, "inc", String(Math.floor(Date.now() / 1000))]);
    expect(r.stderr).toContain("rolled forward 3 committed transaction(s)");
    expect(r.status).toBe(0);
    expect(readTree(join(crashed, "A"))).toEqual(readTree(join(expected, "A")));
    expect(readdirSync(join(crashed, "journal"))).toEqual([]);
    expect(readdirSync(join(crashed, "B"))).toEqual([]);

    const names = listArchive(join(crashed, "backups", "backup-1-to-2.tgz"));
    for (const tid of rolled) expect(names).toContain(`A/${databasePath(format, transactionName(tid))}`);
    expect(names).not.toContain(`A/${databasePath(format, transactionName(incomplete!))}`);
  });

  test("crashed storage without snapshot.conf: dsbackup full rolls it forward by itself", () => {
    const { crashed, expected } = crashedStorage("crash-noconf", "chunky", { inB: 0, done: 2, temp: false });
    const r = dsbackup(["--storage", crashed, "full"]);
    expect(r.stderr).toContain("Entered snapshot mode using direct access");
    expect(r.status).toBe(0);
    expect(readTree(join(crashed, "A"))).toEqual(readTree(join(expected, "A")));
  });

  test("a hostile journal stops the backup (exit 10) and changes nothing", () => {
    const { crashed } = crashedStorage("crash-hostile", "bushy", { inB: 1, done: 2, temp: true });
    writeFileSync(join(crashed, "journal", "replica.tar"), "");
    const before = readTree(crashed);
    const r = dsbackup(["--storage", crashed, "full"]);
    expect(r.status).toBe(10);
    expect(r.stderr).toContain("replica.tar");
    expect(readTree(crashed)).toEqual(before);
  });
});
