// Running out of space in backups/ (a small tmpfs mounted on it): exit 14, a
// message saying so, no archive under a final name, the index unchanged, no
// temporary files left behind.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { dsbackup, tempDir } from "../helpers.ts";
import {
  canMountTmpfs,
  canStrace,
  expectError,
  expectLockFree,
  expectUnchanged,
  mountTmpfs,
  runCommand,
  storageState,
  straceArgs,
  tempFiles,
} from "./common.ts";

if (!canMountTmpfs) console.warn("SKIP: cannot mount tmpfs here (needs root and mount permission); disk-full tests are not run");

const INDEX = "# earlier backups\n1     1000         0000000000000000\n";
const PAGE = 4096;

let unmount: (() => void) | undefined;
afterEach(() => {
  unmount?.();
  unmount = undefined;
});

/** Put a fresh tmpfs of `size` on HOME/backups, holding only the index. */
function smallBackups(home: string, size: string): string {
  const dir = join(home, "backups");
  unmount = mountTmpfs(dir, size);
  writeFileSync(join(dir, "tindex"), INDEX);
  return dir;
}

describe.skipIf(!canMountTmpfs)("backups/ on a full file system", () => {
  let big: string;
  beforeAll(() => {
    // About 1.6 MB of archive: more than the 1 MiB file system holds.
    big = join(tempDir("full-big"), "storage");
    createStorage(big, { format: "lawn", transactions: 200, objectsPerTransaction: 6, pickleBytes: [3000, 6000], seed: 5 });
  });

  test.each([
    ["full", ["full"], "backup-2.tgz"],
    // The index's reference (line 1, tid 0, time 1000) makes `inc 2000` take every transaction.
    ["incremental", ["inc", "2000"], "backup-1-to-2.tgz"],
  ])("%s backup: exit 14, space ran out, nothing committed", (_kind, words, name) => {
    const dir = smallBackups(big, "1m");
    const before = storageState(big);
    const r = dsbackup(["--storage", big, ...words]);
    expectError(r, 14, `Cannot write ${join(dir, name)}: no space left on device`, "nothing was committed");
    expectUnchanged(big, before);
    expect(tempFiles(big)).toEqual([]);
    expectLockFree(big);
  });

  test("the archive fits but the new index does not: exit 14, index unchanged, archive removed", () => {
    const home = join(tempDir("full-index"), "storage");
    createStorage(home, { format: "chunky", transactions: 30, objectsPerTransaction: 4, seed: 12 });
    // Measure the archive on the same file system, then fill it so that exactly its pages remain.
    const dir = smallBackups(home, "256k");
    expect(dsbackup(["--storage", home, "-q", "full"]).status).toBe(0);
    const archivePages = Math.ceil(statSync(join(dir, "backup-2.tgz")).size / PAGE);
    for (const name of readdirSync(dir)) rmSync(join(dir, name));
    writeFileSync(join(dir, "tindex"), INDEX);
    const freePages = () => {
      const r = runCommand(["df", "-B", String(PAGE), "--output=avail"], [dir]);
      return Number(r.stdout.trim().split("\n").at(-1));
    };
    writeFileSync(join(dir, "filler"), Buffer.alloc((freePages() - archivePages) * PAGE));
    expect(freePages()).toBe(archivePages);
    const before = storageState(home);
    const r = dsbackup(["--storage", home, "full"]);
    expectError(r, 14, `Cannot write ${join(dir, "tindex")}: no space left on device`, "nothing was committed");
    expect(r.stderr).toContain("full backup complete"); // the archive itself was written
    expectUnchanged(home, before);
    expect(readFileSync(join(dir, "tindex"), "utf8")).toBe(INDEX);
    expect(tempFiles(home)).toEqual([]);
  });
});

if (!canStrace) console.warn("SKIP: strace not usable here; ENOSPC from fsync is not tested");
describe.skipIf(!canStrace)("ENOSPC reported late, by fsync (strace fault injection)", () => {
  test.each([
    ["the archive's fsync", "when=1", "backup-2.tgz"],
    ["the index's fsync", "when=2", "tindex"],
  ])("at %s: exit 14, nothing committed, temporary files removed", (_what, when, name) => {
    const home = join(tempDir("fsync"), "storage");
    createStorage(home, { format: "flat", transactions: 4, seed: 2 });
    writeFileSync(join(home, "backups", "tindex"), INDEX);
    const before = storageState(home);
    const r = runCommand(straceArgs(["-e", "trace=fsync", "-e", `inject=fsync:error=ENOSPC:${when}`]), ["--storage", home, "full"]);
    expectError(r, 14, "no space left on device", name, "nothing was committed");
    expectUnchanged(home, before);
    expect(tempFiles(home)).toEqual([]);
  });
});

describe.skipIf(!canStrace)("the folder's fsync fails after the index was replaced (strace fault injection)", () => {
  test.each([
    ["after the index's rename", "when=1"],
    ["after the archive's rename", "when=2"],
  ])("%s: committed all the same, archive in place, exit 14 saying so", (_what, when) => {
    const home = join(tempDir("dirsync"), "storage");
    createStorage(home, { format: "flat", transactions: 4, seed: 2 });
    writeFileSync(join(home, "backups", "tindex"), INDEX);
    const dir = join(home, "backups");
    const r = runCommand(straceArgs(["-P", dir, "-e", "trace=fsync", "-e", `inject=fsync:error=ENOSPC:${when}`]), ["--storage", home, "full"]);
    expectError(r, 14, `Cannot fsync ${dir}: no space left on device`, "after backup 2 was recorded in the index");
    // Never an index line without its archive.
    expect(readFileSync(join(dir, "tindex"), "utf8")).toMatch(/\n2 +\d+ +[0-9A-F]{16}  # sha256 backup-2\.tgz \d+ [0-9a-f]{64}\n$/);
    expect(readdirSync(dir).filter((n) => n.endsWith(".tgz"))).toEqual(["backup-2.tgz"]);
    expect(tempFiles(home)).toEqual([]);
  });
});
