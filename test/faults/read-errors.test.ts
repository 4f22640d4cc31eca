// Files under A/ that cannot be read: a clear error naming the path, exit 1,
// no archive, the index unchanged, no temporary files.
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { appendTransactions, createStorage } from "../fixtures/generator.ts";
import { BINARY, dsbackup, tempDir } from "../helpers.ts";
import { databasePath, revisionName, transactionName } from "../../src/storage/names.ts";
import { decodeTransaction } from "../../src/storage/records.ts";
import {
  asNobody,
  canStrace,
  expectError,
  expectUnchanged,
  finalArchives,
  runCommand,
  storageState,
  straceArgs,
  tempFiles,
} from "./common.ts";

const NOW = () => Math.floor(Date.now() / 1000);

function newStorage(label: string) {
  const home = join(tempDir(label), "storage");
  const { tids } = createStorage(home, { format: "bushy", transactions: 8, objectsPerTransaction: 3, seed: 4 });
  return { home, tids, A: (flat: string) => join(home, "A", databasePath("bushy", flat)) };
}

/** A failed run changed nothing and left nothing. */
function expectNothingWritten(home: string, before: ReturnType<typeof storageState>) {
  expectUnchanged(home, before);
  expect(tempFiles(home)).toEqual([]);
}

function chownTree(path: string, uid: number) {
  chownSync(path, uid, uid);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), uid);
}

if (!asNobody) console.warn("SKIP: not root or no setpriv; unreadable-file tests need to run the binary as nobody");
describe.skipIf(!asNobody)("permissions (run as nobody; root reads everything)", () => {
  const asUser = (home: string, args: string[]) => runCommand([...asNobody!, BINARY], ["--storage", home, ...args]);

  function nobodysStorage(label: string) {
    const s = newStorage(label);
    chmodSync(dirname(s.home), 0o755); // mkdtemp made it 0700
    chownTree(s.home, 65534);
    return s;
  }

  test("control: the same storage backs up fine as nobody", () => {
    const { home } = nobodysStorage("perm-ok");
    const r = asUser(home, ["full"]);
    expect(r.status).toBe(0);
    expect(finalArchives(home)).toEqual(["backup-1.tgz"]);
  });

  test("an unreadable object revision: error naming it, no archive", () => {
    const { home, tids, A } = nobodysStorage("perm-file");
    const victim = A(revisionName("0000000000000001", tids[0]!)); // the first transaction creates oid 1
    chmodSync(victim, 0o000);
    const before = storageState(home);
    const r = asUser(home, ["full"]);
    expectError(r, 1, `Cannot read ${victim}: permission denied`, "nothing was committed");
    expectNothingWritten(home, before);
  });

  test("an unreadable directory under A/: error naming it", () => {
    const { home, A } = nobodysStorage("perm-dir");
    const dir = dirname(A("x.serial"));
    chmodSync(dir, 0o000);
    const before = storageState(home);
    const r = asUser(home, ["full"]);
    chmodSync(dir, 0o755);
    expectError(r, 1, dir, "permission denied");
    expectNothingWritten(home, before);
  });

  test("backups/ not writable: error naming the file it could not create, exit 1", () => {
    const { home } = nobodysStorage("perm-backups");
    chownSync(join(home, "backups"), 0, 0);
    const before = storageState(home);
    const r = asUser(home, ["full"]);
    // The index lock is the first file a run creates in backups/.
    expectError(r, 1, `Cannot open lock file ${join(home, "backups")}/.tindex.lock`, "permission denied");
    expectNothingWritten(home, before);
  });
});

if (!canStrace) console.warn("SKIP: strace not usable here; vanishing files and read errors are not tested");
describe.skipIf(!canStrace)("a file that vanishes or fails to read (strace fault injection)", () => {
  test.each([
    ["vanishes after it was listed", "openat", "ENOENT", "no such file or directory"],
    ["gives an I/O error while being read", "read", "EIO", "input/output error"],
  ])("a revision that %s: error naming it, no archive", (_what, call, errno, text) => {
    const { home, tids, A } = newStorage(`vanish-${errno}`);
    const victim = A(revisionName("0000000000000001", tids[0]!));
    const before = storageState(home);
    const r = runCommand(straceArgs(["-P", victim, "-e", `trace=${call}`, "-e", `inject=${call}:error=${errno}`]), ["--storage", home, "full"]);
    expectError(r, 1, `Cannot read ${victim}: ${text}`, "nothing was committed");
    expectNothingWritten(home, before);
  });
});

describe("the transaction chain walked by inc", () => {
  function withIncrement(label: string) {
    const s = newStorage(label);
    expect(dsbackup(["--storage", s.home, "full"]).status).toBe(0);
    const { tids } = appendTransactions(s.home, { count: 4, objectsPerTransaction: 2, seed: 6, newObjects: 0.5 });
    return { ...s, newTids: tids };
  }
  const transactionPath = (s: ReturnType<typeof withIncrement>, i: number) => s.A(transactionName(s.newTids[i]!));

  test.each([
    ["missing", (path: string) => unlinkSync(path), (path: string) => [`Cannot read ${path}: no such file or directory`]],
    ["truncated", (path: string) => truncateSync(path, 40), (path: string) => [path, "corrupt record"]],
    ["emptied", (path: string) => truncateSync(path, 0), (path: string) => [path, "corrupt record"]],
    [
      "damaged (one byte flipped)",
      (path: string) => {
        const bytes = readFileSync(path);
        bytes[bytes.length - 5] ^= 0xff;
        writeFileSync(path, bytes);
      },
      (path: string) => [path, "corrupt record"],
    ],
  ] as const)("a %s transaction file: error naming it, no archive", (_what, damage, needles) => {
    const s = withIncrement("chain");
    const victim = transactionPath(s, 1);
    damage(victim);
    const before = storageState(s.home);
    const r = dsbackup(["--storage", s.home, "inc", String(NOW() + 5)]);
    expectError(r, 1, ...needles(victim));
    expectNothingWritten(s.home, before);
  });

  test("a missing object revision named by a transaction: error naming it", () => {
    const s = withIncrement("chain-rev");
    const path = transactionPath(s, 2);
    const { oids } = decodeTransaction(new Uint8Array(readFileSync(path)), path);
    const victim = s.A(revisionName(oids[0]!, s.newTids[2]!));
    unlinkSync(victim);
    const before = storageState(s.home);
    const r = dsbackup(["--storage", s.home, "inc", String(NOW() + 5)]);
    expectError(r, 1, `Cannot read ${victim}: no such file or directory`);
    expectNothingWritten(s.home, before);
  });
});
