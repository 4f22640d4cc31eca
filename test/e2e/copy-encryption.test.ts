// dsbackup copy with backup's encryption options, end to end on
// dist/dsbackup with Debian's age CLI: plain archives arrive as
// NAME.tgz.age (what `age -d` reads), the destination's index records the
// encrypted objects, restore and verify work there, a second run copies
// nothing, a destination holding some archives plain gets the rest
// encrypted, nothing is ever decrypted or overwritten, a source archive
// that fails its recorded sha256 leaves nothing behind, and to a bucket and
// back. No key or passphrase is ever printed.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseIndex } from "../../src/index/tindex.ts";
import { archives, indexOf, recorded, sha, visible } from "./backups-folder-view.ts";
import { ageCli, gzipMagicWrites, keygen } from "../crypto/age-cli.ts";
import { appendTransactions, createStorage, readTree } from "../fixtures/generator.ts";
import { newBucket, requireRgw } from "../s3/rgw.ts";
import { BINARY, dsbackup, hasCommand, recordingDsbackup, tempDir, type RunResult } from "../helpers.ts";

const rgw = ageCli ? requireRgw("copy --recipient to a bucket", test) : undefined;
const s3test = rgw ? test : test.skip;
const strace = hasCommand("strace", "-V");
if (!strace) console.warn("SKIP: strace not installed; copy's no-plaintext-write trace is skipped");
const HOUR = 3600;
const PASSPHRASE = "copy passphrase: tuna melt 77";
/** Names, sizes and contents of a folder, to show a run changed nothing. */
const snapshot = (dir: string) => visible(dir).map((n) => [n, sha(readFileSync(join(dir, n))), statSync(join(dir, n)).mtimeMs]);

describe.skipIf(!ageCli)("copy --recipient: plain archives encrypted on the way", () => {
  let dir = "";
  let home = "";
  let backups = "";
  let key = { path: "", recipient: "" };
  let passphraseFile = "";
  /** Holds backup-1.tgz plain (copied before backups 2 and 3 existed). */
  let mixed = "";
  const trees: Map<string, Buffer>[] = [];
  const base = Math.floor(Date.now() / 1000) - 10 * HOUR;
  const { ds, outputs } = recordingDsbackup();
  const ok = (r: RunResult) => {
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
    return r;
  };
  const backupRun = (k: number, words: string[]) => {
    ok(ds(["-q", ...words], { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: home, SNAPSHOT_TIMESTAMP: String(base + k * HOUR) }));
    trees[k] = readTree(join(home, "A"), (rel) => rel.endsWith("-deleted"));
  };
  const restored = (from: string, seq: number, keyArgs: string[]) => {
    const t = join(tempDir("copyage-restore"), "restored");
    const r = ds(["restore", "--backups", from, "--to", t, "--seq", String(seq), "-q", ...keyArgs]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    return readTree(join(t, "A"));
  };

  beforeAll(() => {
    dir = tempDir("copyage");
    home = join(dir, "storage");
    backups = join(home, "backups");
    createStorage(home, { format: "bushy", transactions: 16, objectsPerTransaction: 4, seed: 51 });
    key = keygen(dir, "key.txt");
    passphraseFile = join(dir, "passphrase.txt");
    writeFileSync(passphraseFile, `${PASSPHRASE}\n`);
    backupRun(1, ["full"]);
    mixed = join(dir, "mixed");
    ok(ds(["copy", "--backups", backups, "--to", mixed, "-q"]));
    appendTransactions(home, { count: 3, objectsPerTransaction: 4, seed: 52 });
    backupRun(2, ["inc", String(base + HOUR)]);
    appendTransactions(home, { count: 3, objectsPerTransaction: 4, seed: 53 });
    backupRun(3, ["inc", String(base + 2 * HOUR)]);
    expect(archives(backups)).toEqual(["backup-1-to-2.tgz", "backup-1.tgz", "backup-2-to-3.tgz"]);
    expect(archives(mixed)).toEqual(["backup-1.tgz"]);
  }, 60_000);

  let dest = "";
  test("--dry-run says what would be encrypted and writes nothing", () => {
    dest = join(tempDir("copyage-dest"), "offsite");
    const r = ok(ds(["copy", "--backups", backups, "--to", dest, "--recipient", key.recipient, "--dry-run"]));
    expect(r.stdout).toContain("would copy backup-1.tgz as backup-1.tgz.age, encrypted (");
    expect(r.stdout).toContain("Would copy 3 archives (");
    expect(r.stdout).toContain(", 3 to be encrypted) from ");
    expect(existsSync(dest)).toBe(false);
  });

  test("every archive arrives as NAME.tgz.age, read by age -d -i, its index line recording the encrypted object", () => {
    const r = ok(ds(["copy", "--backups", backups, "--to", dest, "--recipient", key.recipient]));
    for (const n of ["backup-1.tgz", "backup-1-to-2.tgz", "backup-2-to-3.tgz"]) {
      expect(r.stdout).toMatch(new RegExp(`^copied ${n.replace(/\./g, "\\.")} as ${n.replace(/\./g, "\\.")}\\.age, encrypted \\(.*sha256 [0-9a-f]{64}\\)`, "m"));
    }
    expect(r.stdout).toMatch(/^Copied 3 archives \(.*, 3 encrypted on the way\) from .*; wrote 3 index lines of /m);
    expect(visible(dest)).toEqual(["backup-1-to-2.tgz.age", "backup-1.tgz.age", "backup-2-to-3.tgz.age", "tindex"]);
    for (const n of archives(dest)) {
      const bytes = readFileSync(join(dest, n));
      expect(bytes.subarray(0, 22).toString()).toBe("age-encryption.org/v1\n");
      // The index records the object as it is at the destination, and no item of the plain archive.
      expect(recorded(dest).get(n)).toEqual({ name: n, size: bytes.length, sha256: sha(bytes) });
      expect(recorded(dest).has(n.replace(/\.age$/, ""))).toBe(false);
      // Exactly what age -e makes of the .tgz: the age CLI gives the source archive back.
      const plain = spawnSync("age", ["-d", "-i", key.path, join(dest, n)], { maxBuffer: 1 << 30 });
      expect(plain.status).toBe(0);
      expect(plain.stdout.equals(readFileSync(join(backups, n.replace(/\.age$/, ""))))).toBe(true);
    }
    const list = spawnSync("sh", ["-c", `age -d -i ${key.path} ${join(dest, "backup-1.tgz.age")} | tar tz`], { encoding: "utf8" });
    expect(list.status).toBe(0);
    expect(list.stdout.split("\n")).toContain("A/");
    // The index lines are the source's (same sequence, time, tid).
    const bare = (d: string) => parseIndex(indexOf(d), d).map((e) => [e.seq, e.timestamp, e.tid]);
    expect(bare(dest)).toEqual(bare(backups));
  });

  test("restore from the copy with --identity is byte-identical at every point", () => {
    for (const k of [1, 2, 3]) expect(restored(dest, k, ["--identity", key.path])).toEqual(trees[k]!);
  });

  test("verify without a key checks the recorded sha256 of the encrypted objects (a flipped byte fails); with the key, everything", () => {
    const keyless = ds(["verify", "--backups", dest]);
    expect(keyless.status).toBe(0);
    expect(keyless.stderr).toContain("3 encrypted archives checked without a key");
    expect(keyless.stdout.match(/^ok {5}\S+\.tgz\.age \(encrypted to 1 X25519 recipient; age header, size and recorded sha256 checked/gm)).toHaveLength(3);
    const withKey = ds(["verify", "--backups", dest, "--identity", key.path]);
    expect(withKey.status).toBe(0);
    expect(withKey.stdout).toMatch(/^ok {5}backup-2-to-3\.tgz\.age \(\d+ entries/m);
    expect(withKey.stderr).not.toContain("without a key");
    // The keyless check is the index's sha256 of the ciphertext: one flipped payload byte, same size, fails it.
    const damaged = join(tempDir("copyage-damaged"), "b");
    cpSync(dest, damaged, { recursive: true });
    const f = join(damaged, "backup-1-to-2.tgz.age");
    const b = readFileSync(f);
    b[b.length - 100]! ^= 1;
    writeFileSync(f, b);
    const bad = ds(["verify", "--backups", damaged]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^FAILED backup-1-to-2\.tgz\.age /m);
    expect(bad.stdout).toContain(`backup-1-to-2.tgz.age: sha256 ${sha(b)} differs from the ${recorded(dest).get("backup-1-to-2.tgz.age")!.sha256} the index recorded`);
  });

  test("a second run copies nothing, with or without the key, and changes nothing", () => {
    const before = snapshot(dest);
    for (const keyArgs of [["--recipient", key.recipient], []]) {
      const r = ok(ds(["copy", "--backups", backups, "--to", dest, ...keyArgs]));
      expect(r.stdout).toBe(`nothing to copy: ${dest} already has every archive of ${backups} (3 of them as NAME.tgz.age)\n`);
    }
    expect(snapshot(dest)).toEqual(before);
  });

  test("an encrypted source is copied byte for byte (no key needed); a destination holding it plain keeps it, with a warning", () => {
    const again = join(tempDir("copyage-again"), "b");
    const r = ok(ds(["copy", "--backups", dest, "--to", again, "--recipient", key.recipient]));
    expect(r.stdout).toContain("copied backup-1.tgz.age (");
    expect(r.stdout).not.toContain("encrypted (");
    for (const n of archives(dest)) expect(readFileSync(join(again, n)).equals(readFileSync(join(dest, n)))).toBe(true);
    expect(indexOf(again)).toBe(indexOf(dest));
    // mixed holds backup-1.tgz plain: the source's backup-1.tgz.age is present there, never written beside or over it.
    const scratch = join(tempDir("copyage-scratch"), "m");
    cpSync(mixed, scratch, { recursive: true });
    const plainBefore = readFileSync(join(scratch, "backup-1.tgz"));
    const m = ok(ds(["copy", "--backups", dest, "--to", scratch]));
    expect(m.stderr).toContain(`warning: backup-1.tgz.age: ${scratch} holds it as the plain backup-1.tgz; left as it is (copy never overwrites an archive, nor decrypts one)`);
    expect(archives(scratch)).toEqual(["backup-1-to-2.tgz.age", "backup-1.tgz", "backup-2-to-3.tgz.age"]);
    expect(readFileSync(join(scratch, "backup-1.tgz")).equals(plainBefore)).toBe(true);
    expect(restored(scratch, 3, ["--identity", key.path])).toEqual(trees[3]!);
  });

  test("mixed: a destination with backup-1.tgz plain gets the rest encrypted; restore works across the mixed chain", () => {
    const r = ok(ds(["copy", "--storage", home, "--to", mixed, "--recipient", key.recipient]));
    expect(r.stdout).toMatch(/^Copied 2 archives \(.*, 2 encrypted on the way\)/m);
    expect(archives(mixed)).toEqual(["backup-1-to-2.tgz.age", "backup-1.tgz", "backup-2-to-3.tgz.age"]);
    expect(readFileSync(join(mixed, "backup-1.tgz")).equals(readFileSync(join(backups, "backup-1.tgz")))).toBe(true);
    const digests = recorded(mixed);
    expect([...digests.keys()].sort()).toEqual(archives(mixed));
    for (const n of archives(mixed)) expect(digests.get(n)!.sha256).toBe(sha(readFileSync(join(mixed, n))));
    expect(restored(mixed, 1, [])).toEqual(trees[1]!);
    expect(restored(mixed, 3, ["--identity", key.path])).toEqual(trees[3]!);
    expect(ok(ds(["copy", "--storage", home, "--to", mixed, "--recipient", key.recipient])).stdout).toStartWith("nothing to copy: ");
  });

  test("--passphrase-file: restored with the passphrase; the passphrase is never printed", () => {
    // One archive: each encrypted archive costs a scrypt of its own (about 2 s here).
    const one = join(tempDir("copyage-one"), "b");
    ok(ds(["copy", "--backups", backups, "--to", one, "-q"]));
    const lines = indexOf(one).split("\n");
    writeFileSync(join(one, "tindex"), `${lines.filter((l) => !/^[23] /.test(l)).join("\n")}`);
    for (const n of ["backup-1-to-2.tgz", "backup-2-to-3.tgz"]) unlinkSync(join(one, n));
    const pdest = join(tempDir("copyage-pass"), "b");
    ok(ds(["copy", "--backups", one, "--to", pdest, "--passphrase-file", passphraseFile]));
    expect(archives(pdest)).toEqual(["backup-1.tgz.age"]);
    expect(readFileSync(join(pdest, "backup-1.tgz.age")).subarray(0, 200).toString("latin1")).toContain("\n-> scrypt ");
    expect(restored(pdest, 1, ["--passphrase-file", passphraseFile])).toEqual(trees[1]!);
  }, 60_000);

  test("a source archive that fails its recorded sha256 on the way: exit 1, nothing of the run left, the index unchanged", () => {
    // backup records no sha256 in its index; a plain copy does (a bucket copied off-site and encrypted from there).
    const src = join(tempDir("copyage-badsrc"), "b");
    ok(ds(["copy", "--backups", backups, "--to", src, "-q"]));
    const f = join(src, "backup-1-to-2.tgz");
    const b = readFileSync(f);
    b[Math.floor(b.length / 2)]! ^= 0x40; // same size: only the sha256 tells
    writeFileSync(f, b);
    const to = join(tempDir("copyage-baddest"), "b");
    const r = ds(["copy", "--backups", src, "--to", to, "--recipient", key.recipient]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("dsbackup: backup-1-to-2.tgz failed its check during the copy (read ");
    expect(r.stderr).toContain(`the source's index records ${b.length} bytes with sha256 ${recorded(src).get("backup-1-to-2.tgz")!.sha256}`);
    expect(r.stderr).toContain(`backup-1-to-2.tgz.age was removed again, the index of ${to} is unchanged`);
    expect(visible(to)).toEqual([]);
  });

  test.skipIf(!strace)("an encrypting copy never writes plaintext: no write of a gzip magic to any descriptor (a plain copy does)", () => {
    const traced = (label: string, args: string[]) => {
      const log = join(dir, `${label}.trace`);
      const to = join(tempDir(`copyage-trace-${label}`), "b");
      const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=write,pwrite64,writev,pwritev,pwritev2", "-xx", "-s", "3", "-o", log, BINARY, "copy", "-q", "--backups", backups, "--to", to, ...args], {
        env: { PATH: process.env.PATH!, TZ: "UTC" },
        encoding: "utf8",
      });
      expect(r.status).toBe(0);
      return readFileSync(log, "utf8");
    };
    const encrypted = traced("encrypted", ["--recipient", key.recipient]);
    expect(gzipMagicWrites(encrypted)).toEqual([]);
    expect(encrypted).toMatch(/write(64)?\(\d+, "\\x61\\x67\\x65/); // "age": a header was written
    expect(gzipMagicWrites(traced("plain", [])).length).toBeGreaterThan(0);
  }, 60_000);

  test("a bad recipient is a usage error before anything is created", () => {
    const to = join(tempDir("copyage-badkey"), "b");
    const r = ds(["copy", "--backups", backups, "--to", to, "--recipient", "age1notakey"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(to)).toBe(false);
  });

  s3test("to a bucket with --recipient and back down; restored from the folder copy", async () => {
    if (!rgw) return;
    const bucket = `s3://${await newBucket(rgw, "copyage")}/site`;
    const up = ok(dsbackup(["copy", "--storage", home, "--to", bucket, "--recipient", key.recipient], { env: rgw.env }));
    outputs.push(up.stdout, up.stderr);
    expect(up.stdout).toMatch(/^Copied 3 archives \(.*, 3 encrypted on the way\)/m);
    const again = ok(dsbackup(["copy", "--storage", home, "--to", bucket, "--recipient", key.recipient], { env: rgw.env }));
    expect(again.stdout).toStartWith("nothing to copy: ");
    const down = join(tempDir("copyage-down"), "b");
    const d = ok(dsbackup(["copy", "--backups", bucket, "--to", down], { env: rgw.env }));
    outputs.push(d.stdout, d.stderr);
    expect(archives(down)).toEqual(["backup-1-to-2.tgz.age", "backup-1.tgz.age", "backup-2-to-3.tgz.age"]);
    for (const n of archives(down)) expect(recorded(down).get(n)!.sha256).toBe(sha(readFileSync(join(down, n))));
    expect(restored(down, 3, ["--identity", key.path])).toEqual(trees[3]!);
    for (const o of [up, again, d]) expect(o.stdout + o.stderr).not.toContain(rgw.env.AWS_SECRET_ACCESS_KEY!);
  }, 120_000);

  test("no key or passphrase in any output", () => {
    const secrets = [...readFileSync(key.path, "utf8").split("\n").filter((l) => l.startsWith("AGE-SECRET-KEY-")), PASSPHRASE];
    expect(secrets).toHaveLength(2);
    for (const o of outputs) for (const s of secrets) expect(o).not.toContain(s);
  });
});
