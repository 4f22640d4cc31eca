// dsbackup copy --decrypt, end to end on dist/dsbackup with Debian's age
// CLI: encrypted backups (backup --recipient) copied to another folder
// arrive as plain NAME.tgz (what tar reads), the destination's index records
// the plain archives, restore and verify work there without a key, a second
// run copies nothing, a wrong identity is exit 21 with nothing written, and
// decrypting is never implied: --identity without --decrypt, and --decrypt
// with --recipient, are usage errors. No key is ever printed.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseIndex } from "../../src/index/tindex.ts";
import { archives, indexOf, recorded, sha, visible } from "./backups-folder-view.ts";
import { ageCli, keygen } from "../crypto/age-cli.ts";
import { appendTransactions, createStorage, readTree } from "../fixtures/generator.ts";
import { recordingDsbackup, tempDir, type RunResult } from "../helpers.ts";

if (!ageCli) console.warn("SKIP: age CLI not installed; copy --decrypt tests are skipped");
const HOUR = 3600;
const PASSPHRASE = "decrypting copy: walrus kettle 31";

describe.skipIf(!ageCli)("copy --decrypt: encrypted archives arrive plain", () => {
  let dir = "";
  let home = "";
  let backups = "";
  let key = { path: "", recipient: "" };
  let wrongKey = { path: "", recipient: "" };
  let passphraseFile = "";
  let dest = "";
  const trees: Map<string, Buffer>[] = [];
  const base = Math.floor(Date.now() / 1000) - 10 * HOUR;
  const { ds, outputs } = recordingDsbackup();
  const ok = (r: RunResult) => {
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
    return r;
  };
  const backupRun = (k: number, words: string[], keyArgs: string[]) => {
    ok(ds(["-q", ...words, ...keyArgs], { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: home, SNAPSHOT_TIMESTAMP: String(base + k * HOUR) }));
    trees[k] = readTree(join(home, "A"), (rel) => rel.endsWith("-deleted"));
  };

  beforeAll(() => {
    dir = tempDir("copydec");
    home = join(dir, "storage");
    backups = join(home, "backups");
    createStorage(home, { format: "bushy", transactions: 16, objectsPerTransaction: 4, seed: 61 });
    key = keygen(dir, "key.txt");
    wrongKey = keygen(dir, "wrong.txt");
    const enc = ["--recipient", key.recipient];
    backupRun(1, ["full"], enc);
    appendTransactions(home, { count: 3, objectsPerTransaction: 4, seed: 62 });
    backupRun(2, ["inc", String(base + HOUR)], enc);
    appendTransactions(home, { count: 3, objectsPerTransaction: 4, seed: 63 });
    backupRun(3, ["inc", String(base + 2 * HOUR)], enc);
    expect(archives(backups)).toEqual(["backup-1-to-2.tgz.age", "backup-1.tgz.age", "backup-2-to-3.tgz.age"]);
    passphraseFile = join(dir, "passphrase.txt");
    writeFileSync(passphraseFile, `${PASSPHRASE}\n`);
    dest = join(tempDir("copydec-dest"), "plain");
  }, 60_000);

  test("a wrong identity is exit 21 and writes nothing at the destination", () => {
    mkdirSync(dest);
    const r = ds(["copy", "--backups", backups, "--to", dest, "--decrypt", "--identity", wrongKey.path]);
    expect(r.status).toBe(21);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("nothing was copied");
    expect(visible(dest)).toEqual([]);
  });

  test("--identity without --decrypt and --decrypt with --recipient are usage errors (exit 2, one line)", () => {
    const cases = [
      { args: ["--identity", key.path], says: "copy never decrypts unless --decrypt is given" },
      { args: ["--decrypt", "--identity", key.path, "--recipient", key.recipient], says: "--decrypt cannot be combined with --recipient" },
      { args: ["--decrypt"], says: "--decrypt needs the keys" },
    ];
    for (const c of cases) {
      const r = ds(["copy", "--backups", backups, "--to", dest, ...c.args]);
      expect({ status: r.status, lines: r.stderr.trim().split("\n").length }).toEqual({ status: 2, lines: 1 });
      expect(r.stderr).toContain(c.says);
    }
    expect(visible(dest)).toEqual([]);
  });

  test("every NAME.tgz.age arrives as NAME.tgz that tar reads, its index line recording the plain archive", () => {
    const r = ok(ds(["copy", "--backups", backups, "--to", dest, "--decrypt", "--identity", key.path]));
    for (const n of ["backup-1.tgz", "backup-1-to-2.tgz", "backup-2-to-3.tgz"]) {
      expect(r.stdout).toMatch(new RegExp(`^copied ${n.replace(/\./g, "\\.")}\\.age as ${n.replace(/\./g, "\\.")}, decrypted \\(.*sha256 [0-9a-f]{64}\\)`, "m"));
    }
    expect(r.stdout).toMatch(/^Copied 3 archives \(.*, 3 decrypted on the way\) from .*; wrote 3 index lines of /m);
    expect(visible(dest)).toEqual(["backup-1-to-2.tgz", "backup-1.tgz", "backup-2-to-3.tgz", "tindex"]);
    for (const n of archives(dest)) {
      const bytes = readFileSync(join(dest, n));
      // What age -d makes of the source's object, byte for byte.
      const plain = spawnSync("age", ["-d", "-i", key.path, join(backups, `${n}.age`)], { maxBuffer: 1 << 30 });
      expect(plain.status).toBe(0);
      expect(bytes.equals(plain.stdout)).toBe(true);
      expect(recorded(dest).get(n)).toEqual({ name: n, size: bytes.length, sha256: sha(bytes) });
      expect(recorded(dest).has(`${n}.age`)).toBe(false);
    }
    const list = spawnSync("tar", ["tzf", join(dest, "backup-1.tgz")], { encoding: "utf8" });
    expect(list.status).toBe(0);
    expect(list.stdout.split("\n")).toContain("A/");
    const bare = (d: string) => parseIndex(indexOf(d), d).map((e) => [e.seq, e.timestamp, e.tid]);
    expect(bare(dest)).toEqual(bare(backups));
  });

  test("restore from the destination without any key is byte-identical at every point; verify checks every sha256", () => {
    for (const k of [1, 2, 3]) {
      const t = join(tempDir("copydec-restore"), "restored");
      const r = ds(["restore", "--backups", dest, "--to", t, "--seq", String(k), "-q"]);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
      expect(readTree(join(t, "A"))).toEqual(trees[k]!);
    }
    const v = ds(["verify", "--backups", dest, "--json"]);
    expect(v.status).toBe(0);
    const report = JSON.parse(v.stdout) as { archives: { name: string; digestChecked: boolean }[] };
    expect(report.archives.map((a) => [a.name, a.digestChecked]).sort()).toEqual([
      ["backup-1-to-2.tgz", true],
      ["backup-1.tgz", true],
      ["backup-2-to-3.tgz", true],
    ]);
  });

  test("a second run copies nothing", () => {
    const before = visible(dest).map((n) => [n, sha(readFileSync(join(dest, n)))]);
    const r = ok(ds(["copy", "--backups", backups, "--to", dest, "--decrypt", "--identity", key.path]));
    expect(r.stdout).toStartWith("nothing to copy: ");
    expect(visible(dest).map((n) => [n, sha(readFileSync(join(dest, n)))])).toEqual(before);
  });

  test("DSBACKUP_IDENTITY_FILE alone decrypts; a passphrase-encrypted archive with --passphrase-file", () => {
    const viaEnv = tempDir("copydec-env");
    const r = ds(["copy", "--backups", backups, "--to", viaEnv, "--decrypt", "-q"], { DSBACKUP_IDENTITY_FILE: key.path });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(archives(viaEnv)).toEqual(["backup-1-to-2.tgz", "backup-1.tgz", "backup-2-to-3.tgz"]);
    // Without --decrypt, the variable is not a reason to decrypt: the archives go as they are.
    const asIs = join(tempDir("copydec-asis"), "b");
    ok(ds(["copy", "--backups", backups, "--to", asIs, "-q"], { DSBACKUP_IDENTITY_FILE: key.path }));
    expect(archives(asIs)).toEqual(archives(backups));
    // A storage encrypted with a passphrase, copied down with it.
    const phome = join(dir, "pstorage");
    createStorage(phome, { format: "bushy", transactions: 6, objectsPerTransaction: 3, seed: 64 });
    ok(ds(["-q", "full", "--passphrase-file", passphraseFile], { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: phome, SNAPSHOT_TIMESTAMP: String(base) }));
    const pdest = join(tempDir("copydec-pass"), "plain");
    ok(ds(["copy", "--storage", phome, "--to", pdest, "--decrypt", "--passphrase-file", passphraseFile, "-q"]));
    expect(archives(pdest)).toEqual(["backup-1.tgz"]);
    const plain = spawnSync("tar", ["tzf", join(pdest, "backup-1.tgz")], { encoding: "utf8" });
    expect(plain.status).toBe(0);
  });

  test("a damaged source archive (same size) leaves nothing behind at the destination", () => {
    const damaged = join(tempDir("copydec-damaged"), "b");
    cpSync(backups, damaged, { recursive: true });
    const f = join(damaged, "backup-1-to-2.tgz.age");
    const b = readFileSync(f);
    b[b.length - 100]! ^= 1;
    writeFileSync(f, b);
    const to = tempDir("copydec-damaged-dest");
    const r = ds(["copy", "--backups", damaged, "--to", to, "--decrypt", "--identity", key.path, "-q"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("backup-1-to-2.tgz.age");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(visible(to)).toEqual([]);
    // Intact ciphertext that is not what the source's index records: the digest of the bytes read refuses it before commit.
    const misrecorded = join(tempDir("copydec-misrecorded"), "b");
    cpSync(backups, misrecorded, { recursive: true });
    const real = recorded(backups).get("backup-1.tgz.age")!.sha256;
    writeFileSync(join(misrecorded, "tindex"), indexOf(backups).replace(real, "0".repeat(64)));
    const to2 = tempDir("copydec-misrecorded-dest");
    const m = ds(["copy", "--backups", misrecorded, "--to", to2, "--decrypt", "--identity", key.path, "-q"]);
    expect(m.status).not.toBe(0);
    expect(m.stderr).toContain(`backup-1.tgz.age failed its check during the copy (read ${statSync(join(backups, "backup-1.tgz.age")).size} bytes with sha256 ${real}, the source's index records`);
    expect(visible(to2)).toEqual([]);
  });

  test("no key or passphrase was printed", () => {
    const secrets = [PASSPHRASE, ...[key.path, wrongKey.path].map((p) => readFileSync(p, "utf8").match(/AGE-SECRET-KEY-\S+/)![0])];
    for (const o of outputs) for (const s of secrets) expect(o).not.toContain(s);
  });
});
