// Encrypted archives end to end on dist/dsbackup with Debian's age CLI:
// interop both ways, encrypted incrementals and mixed chains restored byte
// for byte, wrong and missing keys (exit 21, nothing at TARGET), damage and
// truncation caught before TARGET appears, no plaintext ever written to a
// file, and keys never printed.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appendTransactions, createStorage, readTree } from "../fixtures/generator.ts";
import { ageCli, ageDecryptPassphrase, gzipMagicWrites, keygen, run } from "../crypto/age-cli.ts";
import { BINARY, hasCommand, recordingDsbackup, tempDir } from "../helpers.ts";

const HOUR = 3600;
const PASSPHRASE = "correct horse battery staple 42";
const strace = hasCommand("strace", "-V");
if (!strace) console.warn("SKIP: strace not installed; the no-plaintext-write trace is skipped");

describe.skipIf(!ageCli)("encrypted archives", () => {
  let dir = "";
  let home = "";
  let backups = "";
  let key = { path: "", recipient: "" };
  let other = { path: "", recipient: "" };
  let recipientsFile = "";
  let passphraseFile = "";
  const trees: Map<string, Buffer>[] = [];
  const base = Math.floor(Date.now() / 1000) - 10 * HOUR;
  /** Every output of every run, to search for secrets at the end. */
  const { ds, outputs } = recordingDsbackup();
  const backupRun = (k: number, args: string[]) => {
    const r = ds(["-q", ...args], { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: home, SNAPSHOT_TIMESTAMP: String(base + k * HOUR) });
    if (r.status !== 0) throw new Error(`backup ${k} failed: ${r.stderr}`);
    trees[k] = readTree(join(home, "A"), (rel) => rel.endsWith("-deleted"));
    return r;
  };
  const secretLines = () => [
    ...readFileSync(key.path, "utf8").split("\n").filter((l) => l.startsWith("AGE-SECRET-KEY-")),
    ...readFileSync(other.path, "utf8").split("\n").filter((l) => l.startsWith("AGE-SECRET-KEY-")),
    PASSPHRASE,
  ];

  beforeAll(() => {
    dir = tempDir("encryption");
    home = join(dir, "storage");
    backups = join(home, "backups");
    createStorage(home, { format: "bushy", transactions: 20, objectsPerTransaction: 4, seed: 31 });
    key = keygen(dir, "key.txt");
    other = keygen(dir, "other.txt");
    recipientsFile = join(dir, "recipients.txt");
    writeFileSync(recipientsFile, `# the backup key\n${key.recipient}\n`);
    passphraseFile = join(dir, "passphrase.txt");
    writeFileSync(passphraseFile, `${PASSPHRASE}\n`);
    // 1: encrypted full; 2: encrypted incremental; 3: plain incremental (a mixed chain); 4: encrypted inc over the plain one.
    backupRun(1, ["--recipient", key.recipient, "full"]);
    appendTransactions(home, { count: 3, objectsPerTransaction: 4, seed: 41 });
    backupRun(2, ["--recipients-file", recipientsFile, "inc", String(base + HOUR)]);
    appendTransactions(home, { count: 2, objectsPerTransaction: 4, seed: 42 });
    backupRun(3, ["inc", String(base + 2 * HOUR)]);
    appendTransactions(home, { count: 2, objectsPerTransaction: 4, seed: 43 });
    backupRun(4, ["--recipient", key.recipient, "inc", String(base + 3 * HOUR)]);
  }, 60_000);

  const target = (label: string) => join(tempDir(label), "restored");
  /** TARGET absent and no temporary folder left beside it. */
  const nothingAt = (t: string) => {
    expect(existsSync(t)).toBe(false);
    expect(readdirSync(join(t, ".."))).toEqual([]);
  };

  test("archives are NAME.tgz.age, and exactly what age -d -i reads: | tar tz lists the storage", () => {
    expect(readdirSync(backups).filter((n) => n.includes(".tgz")).sort()).toEqual(["backup-1-to-2.tgz.age", "backup-1.tgz.age", "backup-2-to-3.tgz", "backup-3-to-4.tgz.age"]);
    const head = readFileSync(join(backups, "backup-1.tgz.age")).subarray(0, 22).toString();
    expect(head).toBe("age-encryption.org/v1\n");
    const r = spawnSync("sh", ["-c", `age -d -i ${key.path} ${join(backups, "backup-1.tgz.age")} | tar tz`], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")).toContain("A/");
    expect(r.stdout.split("\n").some((n) => n.startsWith("A/") && n.length > 10)).toBe(true);
  });

  test("list needs no key and says which archives are encrypted", () => {
    const r = ds(["list", "--backups", backups]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/backup-1\.tgz\.age\s+full .*encrypted \(age\)/);
    expect(r.stdout).toMatch(/backup-2-to-3\.tgz\s+2-to-3 .*compressed\n/);
    expect(r.stdout).toContain("restore needs: backup-1.tgz.age backup-1-to-2.tgz.age backup-2-to-3.tgz backup-3-to-4.tgz.age");
    const doc = JSON.parse(ds(["list", "--backups", backups, "--json"]).stdout);
    expect(doc.entries[0].archives[0]).toMatchObject({ name: "backup-1.tgz.age", encrypted: true });
    expect(doc.entries[2].archives[0]).toMatchObject({ name: "backup-2-to-3.tgz", encrypted: false });
  });

  test("full plus encrypted incrementals, over a mixed chain, restore byte for byte (--identity and DSBACKUP_IDENTITY_FILE)", () => {
    for (const k of [1, 2, 3, 4]) {
      const t = target(`enc-restore-${k}`);
      const args = ["restore", "--backups", backups, "--to", t, "--seq", String(k), "-q"];
      const r = k % 2 ? ds([...args, "--identity", key.path, "--verify"]) : ds(args, { DSBACKUP_IDENTITY_FILE: key.path });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(readTree(join(t, "A"))).toEqual(trees[k]!);
    }
  });

  test("a missing or wrong identity: one line naming the archive, exit 21, nothing at TARGET", () => {
    const t = target("enc-nokey");
    const missing = ds(["restore", "--backups", backups, "--to", t]);
    expect(missing.status).toBe(21);
    expect(missing.stderr).toBe(`dsbackup: backup-1.tgz.age: encrypted to 1 X25519 recipient, and no identity or passphrase was given; nothing was written to ${t}\n`);
    nothingAt(t);
    const wrong = ds(["restore", "--backups", backups, "--to", t, "--identity", other.path]);
    expect(wrong.status).toBe(21);
    expect(wrong.stderr).toContain("backup-1.tgz.age: no identity matched");
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1);
    nothingAt(t);
    // The plain archive of the chain needs no key; the encrypted one after it is still refused first.
    const late = ds(["restore", "--backups", backups, "--to", t, "--seq", "4", "--identity", other.path]);
    expect(late.status).toBe(21);
    nothingAt(t);
    // rebuild-index without a key: exit 21 before any index is written.
    const copy = join(tempDir("enc-rebuild-nokey"), "backups");
    cpSync(backups, copy, { recursive: true });
    unlinkSync(join(copy, "tindex"));
    expect(ds(["rebuild-index", "--backups", copy, "-q"]).status).toBe(21);
    expect(existsSync(join(copy, "tindex"))).toBe(false);
  });

  test("verify without a key checks header and size and says what it could not; with the key, everything", () => {
    const keyless = ds(["verify", "--backups", backups]);
    expect(keyless.status).toBe(0);
    expect(keyless.stdout).toMatch(/^ok {5}backup-1\.tgz\.age \(encrypted to 1 X25519 recipient; age header, size.* checked, .*not checked without a key: payload authenticity, the tar stream, the records, the transaction chain\)$/m);
    expect(keyless.stdout).toMatch(/^ok {5}backup-2-to-3\.tgz \(\d+ entries/m);
    expect(keyless.stderr).toContain("3 encrypted archives checked without a key");
    const doc = JSON.parse(ds(["verify", "--backups", backups, "--json"]).stdout);
    expect(doc.ok).toBe(true);
    expect(doc.checkedWithoutKey).toEqual(["backup-1.tgz.age", "backup-1-to-2.tgz.age", "backup-3-to-4.tgz.age"]);
    const withKey = ds(["verify", "--backups", backups, "--identity", key.path]);
    expect(withKey.status).toBe(0);
    expect(withKey.stdout).toMatch(/^ok {5}backup-1\.tgz\.age \(\d+ entries/m);
    expect(withKey.stderr).not.toContain("without a key");
  });

  /** A copy of the folder with `name` changed by `damage`. */
  const damaged = (label: string, name: string, damage: (path: string) => void) => {
    const copy = join(tempDir(label), "backups");
    cpSync(backups, copy, { recursive: true });
    damage(join(copy, name));
    return copy;
  };
  const flipAt = (offset: (bytes: Buffer) => number) => (path: string) => {
    const b = readFileSync(path);
    b[offset(b)]! ^= 0x01;
    writeFileSync(path, b);
  };

  test("a flipped byte in the payload: verify and restore name the chunk; TARGET never appears", () => {
    const copy = damaged("enc-payload", "backup-1.tgz.age", flipAt((b) => b.length - 100));
    const v = ds(["verify", "--backups", copy, "--identity", key.path]);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/backup-1\.tgz\.age: cannot read: chunk \d+(, the last,)? does not authenticate/);
    const t = target("enc-payload-restore");
    const r = ds(["restore", "--backups", copy, "--to", t, "--identity", key.path]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("does not authenticate");
    nothingAt(t);
  });

  test("a flipped byte in the header MAC: verify and restore report it before TARGET is created", () => {
    // Another base64 letter at the MAC's first character: still well-formed, a different MAC
    // (a bit flip could make a character that is not base64, a different error).
    const copy = damaged("enc-header", "backup-1.tgz.age", (path) => {
      const b = readFileSync(path);
      const at = b.indexOf("\n--- ") + 5;
      b[at] = b[at] === 0x41 ? 0x42 : 0x41;
      writeFileSync(path, b);
    });
    const v = ds(["verify", "--backups", copy, "--identity", key.path]);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain("backup-1.tgz.age: cannot read: not a valid age file: the header MAC does not match");
    const t = target("enc-header-restore");
    const r = ds(["restore", "--backups", copy, "--to", t, "--identity", key.path]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("backup-1.tgz.age: not a valid age file: the header MAC does not match");
    nothingAt(t);
  });

  test("truncation: caught with a key (restore, verify) and, where the size shows it, without", () => {
    const cut = damaged("enc-trunc", "backup-1-to-2.tgz.age", (p) => truncateSync(p, readFileSync(p).length - 5));
    const v = ds(["verify", "--backups", cut, "--identity", key.path]);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/backup-1-to-2\.tgz\.age: cannot read: (truncated|chunk \d+, the last, does not authenticate)/);
    const t = target("enc-trunc-restore");
    expect(ds(["restore", "--backups", cut, "--to", t, "--identity", key.path, "--seq", "2"]).status).toBe(1);
    nothingAt(t);
    // Cut to its header and a few payload bytes: no age file has that size.
    const stub = damaged("enc-trunc2", "backup-1-to-2.tgz.age", (p) => {
      const b = readFileSync(p);
      writeFileSync(p, b.subarray(0, b.indexOf("\n--- ") + 50 + 16 + 10));
    });
    const keyless = ds(["verify", "--backups", stub]);
    expect(keyless.status).toBe(1);
    expect(keyless.stdout).toMatch(/FAILED backup-1-to-2\.tgz\.age/);
    expect(keyless.stdout).toContain("truncated");
  });

  test("an archive encrypted by the age CLI is restored by us", () => {
    const copy = join(tempDir("enc-by-age"), "backups");
    cpSync(backups, copy, { recursive: true });
    const plain = join(copy, "backup-2-to-3.tgz");
    expect(run("age", ["-e", "-r", key.recipient, "-o", `${plain}.age`, plain]).status).toBe(0);
    unlinkSync(plain);
    const t = target("enc-by-age-restore");
    const r = ds(["restore", "--backups", copy, "--to", t, "--seq", "3", "--identity", key.path, "--verify", "-q"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readTree(join(t, "A"))).toEqual(trees[3]!);
  });

  test("a passphrase: age -d with it reads our archive, and restore with --passphrase-file", () => {
    const h = join(tempDir("enc-pass"), "storage");
    createStorage(h, { format: "lawn", transactions: 5, objectsPerTransaction: 2, seed: 5 });
    const env = { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: h, SNAPSHOT_TIMESTAMP: String(base) };
    const b = ds(["-q", "--passphrase-file", passphraseFile, "full"], env);
    expect(b.status).toBe(0);
    const file = join(h, "backups", "backup-1.tgz.age");
    const out = join(h, "..", "out.tgz");
    expect(ageDecryptPassphrase(file, out, PASSPHRASE)).toBe(0);
    expect(spawnSync("tar", ["tzf", out], { encoding: "utf8" }).stdout).toContain("A/");
    const t = target("enc-pass-restore");
    const r = ds(["restore", "--backups", join(h, "backups"), "--to", t, "--passphrase-file", passphraseFile, "-q"]);
    expect(r.status).toBe(0);
    expect(readTree(join(t, "A"))).toEqual(readTree(join(h, "A"), (rel) => rel.endsWith("-deleted")));
  }, 60_000);

  test("--output - with encryption writes NAME.tgz.age to stdout; the index line names it", () => {
    const h = join(tempDir("enc-stdout"), "storage");
    createStorage(h, { format: "flat", transactions: 4, objectsPerTransaction: 2, seed: 6 });
    const out = join(h, "..", "x.tgz.age");
    const r = spawnSync("sh", ["-c", `${BINARY} -q --recipient ${key.recipient} --output - full > ${out}`], {
      env: { PATH: process.env.PATH!, TZ: "UTC", SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: h, SNAPSHOT_TIMESTAMP: String(base) },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    // The stdout item, and the size and sha256 of the ciphertext that went out, which must be the file's.
    const index = readFileSync(join(h, "backups", "tindex"), "utf8");
    const m = /# stdout backup-1\.tgz\.age; sha256 backup-1\.tgz\.age (\d+) ([0-9a-f]{64})\n$/.exec(index);
    expect(m).not.toBeNull();
    const sent = readFileSync(out);
    expect(Number(m![1])).toBe(sent.length);
    expect(m![2]).toBe(new Bun.CryptoHasher("sha256").update(sent).digest("hex"));
    expect(spawnSync("sh", ["-c", `age -d -i ${key.path} ${out} | tar tz`], { encoding: "utf8" }).stdout).toContain("A/");
    expect(readdirSync(join(h, "backups")).filter((n) => n.includes("tgz"))).toEqual([]);
  });

  test("prune deletes .tgz.age archives; rebuild-index reads them with the key", () => {
    const copy = join(tempDir("enc-prune"), "backups");
    cpSync(backups, copy, { recursive: true });
    const rebuilt = ds(["rebuild-index", "--backups", copy, "--force", "--identity", key.path, "-q"]);
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.stdout).toMatch(/^1 +[0-9A-F]{16} .* from backup-1\.tgz\.age$/m);
    expect(rebuilt.stdout).toMatch(/^4 +[0-9A-F]{16} .* from backup-3-to-4\.tgz\.age$/m);
    // A second encrypted full makes the first prunable.
    const h = join(tempDir("enc-prune-home"), "storage");
    cpSync(home, h, { recursive: true });
    const env = { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: h, SNAPSHOT_TIMESTAMP: String(base + 5 * HOUR) };
    expect(ds(["-q", "--recipient", key.recipient, "full"], env).status).toBe(0);
    const p = ds(["prune", "--storage", h, "--keep-full", "1"]);
    expect(p.status).toBe(0);
    expect(p.stdout).toContain("deleted backup-1.tgz.age");
    expect(readdirSync(join(h, "backups")).filter((n) => n.includes(".tgz"))).toEqual(["backup-5.tgz.age"]);
  });

  test("keys and passphrases are never printed, also when a key file is refused", () => {
    const bad = join(dir, "bad-identity.txt");
    const secret = readFileSync(key.path, "utf8").split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!;
    writeFileSync(bad, `${secret.slice(0, -3)}xyz\n`);
    const r = ds(["restore", "--backups", backups, "--to", target("enc-bad-key"), "--identity", bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("bad-identity.txt:1");
    ds(["restore", "--backups", backups, "--dry-run", "--json", "--identity", key.path, "--passphrase-file", passphraseFile]);
    ds(["verify", "--backups", backups, "--json", "--identity", key.path]);
    const all = outputs.join("\n");
    for (const s of [...secretLines(), secret.slice(0, -3)]) expect(all).not.toContain(s);
    expect(all).not.toMatch(/AGE-SECRET-KEY-1[0-9A-Z]{10}/); // the name of the format may be said, never a key
  });

  test.skipIf(!strace)("a backup never writes plaintext: no write of a gzip magic to any descriptor (and a plain one does)", () => {
    const h = join(tempDir("enc-strace"), "storage");
    createStorage(h, { format: "chunky", transactions: 40, objectsPerTransaction: 6, seed: 7 });
    const tmp = join(h, "..", "tmp");
    mkdirSync(tmp);
    const traced = (label: string, args: string[], k: number) => {
      const log = join(h, "..", `${label}.trace`);
      const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=write,pwrite64,writev,pwritev,pwritev2", "-xx", "-s", "3", "-o", log, BINARY, "-q", ...args], {
        env: { PATH: process.env.PATH!, TZ: "UTC", TMPDIR: tmp, SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: h, SNAPSHOT_TIMESTAMP: String(base + k) },
        encoding: "utf8",
      });
      expect(r.status).toBe(0);
      return readFileSync(log, "utf8");
    };
    const encrypted = traced("encrypted", ["--recipient", key.recipient, "full"], 1);
    expect(gzipMagicWrites(encrypted)).toEqual([]);
    expect(encrypted).toMatch(/write(64)?\(\d+, "\\x61\\x67\\x65/); // "age": the header was written
    // The control: the same trace of a plain backup sees its gzip members written.
    expect(gzipMagicWrites(traced("plain", ["full"], 2)).length).toBeGreaterThan(0);
    expect(readdirSync(tmp)).toEqual([]);
  }, 120_000);
});
