// Faults under `dsbackup snapshot -- dsbackup full`: a signal to the snapshot
// tool reaches the backup, a killed backup leaves nothing committed, and its
// leftovers are only reported under the snapshot tool (whose lock is not
// dsbackup's own), then removed by the next run that holds the lock itself.
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { BINARY, dsbackup, tempDir } from "../helpers.ts";
import { HOST, expectError, expectLockFree, expectUnchanged, startDsbackup, storageState, tempFiles, waitFor } from "./common.ts";

const INDEX = "# earlier\n1     1700000000   0000000000000000\n";
let home: string;

beforeAll(() => {
  home = join(tempDir("snap-faults"), "storage");
  createStorage(home, { format: "chunky", transactions: 200, objectsPerTransaction: 6, pickleBytes: [3000, 6000], seed: 13 });
});
beforeEach(() => {
  const dir = join(home, "backups");
  for (const name of readdirSync(dir)) rmSync(join(dir, name));
  writeFileSync(join(dir, "tindex"), INDEX);
});

/** The pid of the inner backup, read from the name of its temporary archive. */
function innerPid(): number | undefined {
  const temp = tempFiles(home).find((n) => n.startsWith(`.tmp-${HOST}-`) && n.endsWith("backup-2.tgz"));
  return temp ? Number(temp.slice(`.tmp-${HOST}-`.length).split("-")[0]) : undefined;
}

describe("dsbackup snapshot -- dsbackup full", () => {
  test("SIGTERM to the snapshot tool reaches the backup: exit 130, nothing committed, lock free", async () => {
    const before = storageState(home);
    const run = startDsbackup(["snapshot", "--storage", home, "--", BINARY, "--jobs", "1", "--level", "9", "full"]);
    await waitFor("the inner backup's temporary archive", () => innerPid() || run.child.exitCode !== null);
    expect(run.child.exitCode).toBeNull();
    run.child.kill("SIGTERM");
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("interrupted by SIGTERM; nothing was committed");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expectUnchanged(home, before);
    expect(tempFiles(home)).toEqual([]);
    expectLockFree(home);
  });

  test("the backup killed under the snapshot tool: the next run under it removes the leftover (the tool holds the lock)", async () => {
    const before = storageState(home);
    const run = startDsbackup(["snapshot", "--storage", home, "--", BINARY, "--jobs", "1", "--level", "9", "full"]);
    const pid = await waitFor("the inner backup's temporary archive", () => innerPid() || (run.child.exitCode !== null && -1));
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    const result = await run.done;
    expect(result.code).toBe(137); // COMMAND's status, as a shell reports death by SIGKILL
    expectUnchanged(home, before);
    expectLockFree(home);
    const [left] = tempFiles(home);
    expect(left).toBe(`.tmp-${HOST}-${pid}-backup-2.tgz`);

    const under = dsbackup(["snapshot", "--storage", home, "--", BINARY, "full"]);
    expect(under.status).toBe(0);
    expect(under.stderr).toContain(`Removed ${join(home, "backups", left!)}: left unfinished by process ${pid}`);
    expect(tempFiles(home)).toEqual([]);
  });

  test("a SNAPSHOT_TIMESTAMP from the future or too old is refused with exit 12 before anything is read", () => {
    const before = storageState(home);
    const env = (ts: number) => ({ SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: home, SNAPSHOT_TIMESTAMP: String(ts) });
    const now = Math.floor(Date.now() / 1000);
    expectError(dsbackup(["full"], { env: env(now + 3600) }), 12, "is in the future");
    expectError(dsbackup(["full"], { env: env(now - 13 * 3600) }), 12, "more than 12 hours old");
    expectUnchanged(home, before);
  });
});
