// Faults during a restore: no space, killed, a damaged archive. TARGET either
// holds the complete restored storage or does not exist; the temporary folder
// beside it never outlives the run (or, after SIGKILL, the next run).
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage, readTree } from "../fixtures/generator.ts";
import { dsbackup, tempDir } from "../helpers.ts";
import { HOST, canMountTmpfs, expectError, mountTmpfs, startDsbackup, waitFor } from "./common.ts";

let home: string;
let archive: string;
beforeAll(() => {
  home = join(tempDir("restore-src"), "storage");
  createStorage(home, { format: "bushy", transactions: 150, objectsPerTransaction: 6, pickleBytes: [3000, 6000], seed: 7 });
  const r = dsbackup(["--storage", home, "-q", "full"]);
  if (r.status !== 0) throw new Error(r.stderr);
  archive = join(home, "backups", "backup-1.tgz");
});

let unmount: (() => void) | undefined;
afterEach(() => {
  unmount?.();
  unmount = undefined;
});

const tempsBeside = (dir: string) => readdirSync(dir).filter((n) => n.startsWith(".tmp-"));

/** The backups folder a restore reads is never changed by it. */
function backupsBytes() {
  return readTree(join(home, "backups"), (rel) => rel.startsWith("."));
}

if (!canMountTmpfs) console.warn("SKIP: cannot mount tmpfs here; restore with no space left is not tested");
describe.skipIf(!canMountTmpfs)("restore onto a full file system", () => {
  test("exit 14, says space ran out, no TARGET, no temporary folder", () => {
    const parent = tempDir("restore-full");
    unmount = mountTmpfs(parent, "1m");
    const before = backupsBytes();
    const r = dsbackup(["restore", "--storage", home, "--to", join(parent, "restored")]);
    expectError(r, 14, "no space left on device", `nothing was written to ${join(parent, "restored")}`);
    expect(readdirSync(parent)).toEqual([]);
    expect(backupsBytes()).toEqual(before);
  });
});

describe.each(["SIGKILL", "SIGTERM"] as const)("%s during a restore", (signal) => {
  test("no TARGET; the next restore succeeds and removes what the dead run left, only that", async () => {
    const parent = tempDir("restore-kill");
    const target = join(parent, "restored");
    const before = backupsBytes();
    const run = startDsbackup(["restore", "--storage", home, "--to", target]);
    const pid = run.child.pid!;
    const tempDirName = `.tmp-${HOST}-${pid}-restored`;
    // Some of A/ is already extracted into the temporary folder.
    await waitFor("extraction to start", () => existsSync(join(parent, tempDirName, "A", "o0")) || run.child.exitCode !== null);
    run.child.kill("SIGSTOP");
    expect(run.child.exitCode).toBeNull();
    run.child.kill(signal);
    run.child.kill("SIGCONT");
    const result = await run.done;
    expect(existsSync(target)).toBe(false);
    expect(backupsBytes()).toEqual(before);
    if (signal === "SIGTERM") {
      expectError({ status: result.code, stderr: result.stderr }, 130, "interrupted by SIGTERM");
      expect(tempsBeside(parent)).toEqual([]);
    } else {
      expect(result.signal).toBe("SIGKILL");
      expect(tempsBeside(parent)).toEqual([tempDirName]);
    }
    const foreign = [".tmp-otherhost-99-restored", `.tmp-${HOST}-${process.pid}-restored`, `.tmp-${HOST}-4242-elsewhere`];
    for (const name of foreign) mkdirSync(join(parent, name));
    const next = dsbackup(["restore", "--storage", home, "--to", target]);
    expect(next.status).toBe(0);
    if (signal === "SIGKILL") expect(next.stderr).toContain(`Removed ${join(parent, tempDirName)}: left unfinished by process ${pid}`);
    else expect(next.stderr).not.toContain("Removed");
    expect(tempsBeside(parent).sort()).toEqual(foreign.sort());
    expect(readTree(join(target, "A"))).toEqual(readTree(join(home, "A")));
  });
});

test("a truncated archive: exit 1 naming it, no TARGET, no temporary folder", () => {
  const copy = join(tempDir("restore-trunc"), "backups");
  mkdirSync(copy);
  writeFileSync(join(copy, "tindex"), readFileSync(join(home, "backups", "tindex")));
  writeFileSync(join(copy, "backup-1.tgz"), readFileSync(archive));
  truncateSync(join(copy, "backup-1.tgz"), Math.floor(readFileSync(archive).length / 2));
  const parent = tempDir("restore-trunc-to");
  const r = dsbackup(["restore", "--backups", copy, "--to", join(parent, "r")]);
  expectError(r, 1, "backup-1.tgz");
  expect(r.stdout + r.stderr).toContain("truncated");
  expect(readdirSync(parent)).toEqual([]);
});
