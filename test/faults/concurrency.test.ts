// Two runs on one storage, and a running storage holding its lock: exactly
// one writer, the other refused at once with exit 11 and a lock message.
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { dsbackup, tempDir, tools } from "../helpers.ts";
import { expectError, expectLockFree, expectUnchanged, finalArchives, startDsbackup, storageState, tempFiles } from "./common.ts";

const indexLines = (home: string) => readFileSync(join(home, "backups", "tindex"), "utf8").split("\n").filter((l) => /^\d/.test(l));

describe("two backups started at the same instant", () => {
  test("one succeeds, the other fails fast with exit 11; one new index line (3 rounds)", async () => {
    const home = join(tempDir("race"), "storage");
    createStorage(home, { format: "chunky", transactions: 120, objectsPerTransaction: 6, pickleBytes: [3000, 6000], seed: 9 });
    for (let round = 1; round <= 3; round++) {
      const args = ["--storage", home, "--jobs", "1", "--level", "9", "full"];
      const t0 = Date.now();
      const runs = [startDsbackup(args), startDsbackup(args)];
      const ended: number[] = [0, 0];
      runs.forEach((r, i) => r.done.then(() => (ended[i] = Date.now() - t0)));
      const results = await Promise.all(runs.map((r) => r.done));
      const winner = results.findIndex((r) => r.code === 0);
      const loser = 1 - winner;
      expect(winner).toBeGreaterThanOrEqual(0);
      expectError({ status: results[loser]!.code, stderr: results[loser]!.stderr }, 11, "misc/sublock is locked by another process");
      // Refused before doing any work: it ended while the winner was still writing.
      expect(ended[loser]!).toBeLessThan(ended[winner]!);
      expect(results[loser]!.stderr).not.toContain("This is backup sequence number");
      expect(indexLines(home)).toHaveLength(round);
      expect(finalArchives(home)).toHaveLength(round);
      expect(tempFiles(home)).toEqual([]);
    }
    expectLockFree(home);
  });
});

if (!tools.python) console.warn("SKIP: python3 not installed; a foreign flock holder is not tested");
describe.skipIf(!tools.python)("the storage (a Python process) holds misc/sublock", () => {
  test("refused with exit 11 and nothing written; succeeds once it lets go", async () => {
    const home = join(tempDir("held"), "storage");
    createStorage(home, { format: "lawn", transactions: 3, seed: 1 });
    const holder = spawn("python3", [
      "-c",
      "import fcntl,sys\nf=open(sys.argv[1],'a')\nfcntl.flock(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\nprint('held',flush=True)\nsys.stdin.read()",
      join(home, "misc", "sublock"),
    ]);
    await new Promise<void>((ok) => holder.stdout.once("data", () => ok()));
    const before = storageState(home);
    const t0 = Date.now();
    const r = dsbackup(["--storage", home, "full"]);
    expect(Date.now() - t0).toBeLessThan(5000); // never waits for the lock
    expectError(r, 11, `${join(home, "misc", "sublock")} is locked by another process`);
    expectUnchanged(home, before);
    expect(tempFiles(home)).toEqual([]);
    holder.stdin.end();
    await new Promise((ok) => holder.on("close", ok));
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
  });
});
