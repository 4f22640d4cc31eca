// Hostile and damaged archives: refused or detected by name, and a failed
// restore leaves nothing behind, neither TARGET nor anything outside it.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appendTransactions, createStorage, readTree } from "../fixtures/generator.ts";
import { dsbackup, tempDir, tools } from "../helpers.ts";

if (!tools.python) console.warn("SKIP: python3 not installed; hostile and re-packed archives cannot be built, those tests are skipped");

/**
 * Build a gzip tar with Python's tarfile from a list of members:
 * {name, type: file|dir|symlink|link|fifo|chr, data?, linkname?}.
 * With `from`, start from an existing archive: members listed in `drop` are
 * left out and `flip` ({name, at}) flips one byte of a member's content.
 */
const BUILD = String.raw`
import io, json, os, sys, tarfile
spec = json.loads(sys.argv[1])
out = tarfile.open(spec["out"] + ".new", "w:gz", format=tarfile.USTAR_FORMAT)
if "from" in spec:
    src = tarfile.open(spec["from"])
    for m in src.getmembers():
        if m.name in spec.get("drop", []): continue
        data = src.extractfile(m).read() if m.isfile() else None
        if data is not None and m.name == spec.get("flip", {}).get("name"):
            b = bytearray(data); b[spec["flip"]["at"]] ^= 0xFF; data = bytes(b)
        out.addfile(m, io.BytesIO(data) if data is not None else None)
types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
         "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}
for m in spec.get("members", []):
    info = tarfile.TarInfo(m["name"])
    info.type = types[m["type"]]
    info.mode = 0o755 if m["type"] == "dir" else 0o644
    info.linkname = m.get("linkname", "")
    data = m.get("data", "").encode()
    info.size = len(data) if m["type"] == "file" else 0
    out.addfile(info, io.BytesIO(data) if m["type"] == "file" else None)
out.close()
os.replace(spec["out"] + ".new", spec["out"])
`;

function buildArchive(spec: Record<string, unknown>): void {
  const r = spawnSync("python3", ["-c", BUILD, JSON.stringify(spec)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 could not build the archive: ${r.stderr}`);
}

const SERIAL = "\u0000".repeat(7) + "\u0001";

describe.skipIf(!tools.python)("hostile archives are refused, nothing is written outside TARGET", () => {
  const cases: { label: string; entry: (work: string) => string; why: string; members: (work: string) => object[] }[] = [
    { label: "path traversal", entry: () => "A/../../outside/evil", why: "'..'",
      members: () => [{ name: "A/../../outside/evil", type: "file", data: "pwned" }] },
    { label: "absolute path", entry: (w) => `${w}/outside/abs`, why: "absolute path refused",
      members: (w) => [{ name: `${w}/outside/abs`, type: "file", data: "pwned" }] },
    { label: "symbolic link, then a write through it", entry: () => "A/link", why: "symbolic link refused",
      members: (w) => [{ name: "A/link", type: "symlink", linkname: `${w}/outside` }, { name: "A/link/pwned", type: "file", data: "pwned" }] },
    { label: "relative symbolic link out, then a write through it", entry: () => "A/up", why: "symbolic link refused",
      members: () => [{ name: "A/up", type: "symlink", linkname: "../../outside" }, { name: "A/up/pwned", type: "file", data: "pwned" }] },
    { label: "hard link to a file outside, then a write to it", entry: () => "A/hard", why: "hard link refused",
      members: (w) => [{ name: "A/hard", type: "link", linkname: `${w}/outside/sentinel` }, { name: "A/hard", type: "file", data: "pwned" }] },
    { label: "fifo", entry: () => "A/fifo", why: "fifo refused", members: () => [{ name: "A/fifo", type: "fifo" }] },
    { label: "device", entry: () => "A/dev", why: "character device refused", members: () => [{ name: "A/dev", type: "chr" }] },
    { label: "a file outside config/ and A/", entry: () => "misc/snapshot", why: "outside config/ and A/",
      members: () => [{ name: "misc/snapshot", type: "file", data: "" }] },
  ];

  for (const c of cases) {
    test(c.label, () => {
      const work = tempDir("hostile");
      mkdirSync(join(work, "backups"));
      mkdirSync(join(work, "outside"));
      writeFileSync(join(work, "outside", "sentinel"), "original");
      writeFileSync(join(work, "backups", "tindex"), "1     1790000000   0000000000000001\n");
      buildArchive({
        out: join(work, "backups", "backup-1.tgz"),
        members: [
          { name: "A", type: "dir" }, { name: "config", type: "dir" },
          { name: "config/settings", type: "file", data: "[storage]\nclassname: Full\n[structure]\nformat = flat\n" },
          { name: "A/x.serial", type: "file", data: SERIAL },
          ...c.members(work),
        ],
      });
      const outsideBefore = readTree(join(work, "outside"));
      for (const verify of [[], ["--verify"]]) {
        const r = dsbackup(["restore", "--backups", join(work, "backups"), "--to", join(work, "target"), ...verify]);
        expect(r.status).toBe(1);
        expect(r.stdout).toContain(`backup-1.tgz: ${c.entry(work)}`);
        expect(r.stdout).toContain(c.why);
        expect(r.stderr).toContain("nothing was written to");
        expect(readdirSync(work).sort()).toEqual(["backups", "outside"]);
        expect(readTree(join(work, "outside"))).toEqual(outsideBefore);
      }
      const v = dsbackup(["verify", "--backups", join(work, "backups")]);
      expect(v.status).toBe(1);
      expect(v.stdout).toContain(c.entry(work));
    });
  }
});

describe("damaged archives are detected by verify and by restore, which leaves nothing behind", () => {
  /** A storage with a full and two incremental backups; returns the backups folder and a fresh parent for targets. */
  function setup() {
    const home = join(tempDir("damaged"), "storage");
    createStorage(home, { format: "chunky", transactions: 6, objectsPerTransaction: 3, seed: 5 });
    const now = Math.floor(Date.now() / 1000);
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    appendTransactions(home, { count: 3, seed: 6 });
    expect(dsbackup(["--storage", home, "inc", String(now + 60)]).status).toBe(0);
    appendTransactions(home, { count: 3, seed: 7 });
    expect(dsbackup(["--storage", home, "inc", String(now + 60)]).status).toBe(0);
    return { backups: join(home, "backups"), parent: tempDir("targets") };
  }

  function expectRefused(backups: string, parent: string, archive: string, text: string, verifyOnly = false) {
    const v = dsbackup(["verify", "--backups", backups]);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain(`FAILED ${archive}`);
    expect(v.stdout).toContain(text);
    expect(v.stderr).toContain("verify found");
    const target = join(parent, "restored");
    if (!verifyOnly) {
      const r = dsbackup(["restore", "--backups", backups, "--to", target]);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(archive);
    }
    const rv = dsbackup(["restore", "--backups", backups, "--to", target, "--verify"]);
    expect(rv.status).toBe(1);
    expect(rv.stdout).toContain(text);
    expect(readdirSync(parent)).toEqual([]);
  }

  test("a flipped byte in the compressed data", () => {
    const { backups, parent } = setup();
    const path = join(backups, "backup-1-to-2.tgz");
    const bytes = readFileSync(path);
    // Inside the first member's deflate data (its 10-byte header ends at 10). The middle of
    // the file could land in a later member's header fields that gzip does not check (MTIME, OS).
    bytes[24] ^= 0x01;
    writeFileSync(path, bytes);
    expectRefused(backups, parent, "backup-1-to-2.tgz", "gzip");
  });

  test("a flipped byte in the gzip trailer (CRC)", () => {
    const { backups, parent } = setup();
    const path = join(backups, "backup-1.tgz");
    const bytes = readFileSync(path);
    bytes[bytes.length - 6] ^= 0x01;
    writeFileSync(path, bytes);
    expectRefused(backups, parent, "backup-1.tgz", "gzip data corrupt");
  });

  test("a truncated archive", () => {
    const { backups, parent } = setup();
    const path = join(backups, "backup-1.tgz");
    truncateSync(path, readFileSync(path).length - 100);
    expectRefused(backups, parent, "backup-1.tgz", "truncated");
  });

  test("a missing archive", () => {
    const { backups, parent } = setup();
    spawnSync("rm", [join(backups, "backup-1-to-2.tgz")]);
    const v = dsbackup(["verify", "--backups", backups]);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain("sequence 2 is in the index but none of its archives");
    const r = dsbackup(["restore", "--backups", backups, "--to", join(parent, "r"), "--seq", "2"]);
    expect(r.status).toBe(1);
    expect(readdirSync(parent)).toEqual([]);
  });

  test.skipIf(!tools.python)("a record whose content no longer matches its md5", () => {
    const { backups, parent } = setup();
    const path = join(backups, "backup-2-to-3.tgz");
    const names = spawnSync("python3", ["-c", "import sys,tarfile\nfor m in tarfile.open(sys.argv[1]): print(m.name)", path], { encoding: "utf8" }).stdout.split("\n");
    const revision = names.find((n) => /^A\/o.*\.[0-9A-F]{16}$/.test(n))!;
    buildArchive({ from: path, out: path, flip: { name: revision, at: 80 } });
    expectRefused(backups, parent, "backup-2-to-3.tgz", `${revision}: md5 does not match`, true);
    // without --verify the records are not decoded, but the archive's sha256 no longer matches the index
    const refused = dsbackup(["restore", "--backups", backups, "--to", join(parent, "r")]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain("backup-2-to-3.tgz: sha256 mismatch: the index recorded");
    expect(readdirSync(parent)).toEqual([]);
    // an older index line records no sha256: then the restore goes through
    const index = join(backups, "tindex");
    writeFileSync(index, readFileSync(index, "utf8").replace(/  # sha256 .*$/gm, ""));
    const plain = dsbackup(["restore", "--backups", backups, "--to", join(parent, "r")]);
    expect(plain.status).toBe(0);
  });

  test.skipIf(!tools.python)("a transaction missing from an incremental: a gap in the chain", () => {
    const { backups, parent } = setup();
    const path = join(backups, "backup-1-to-2.tgz");
    const names = spawnSync("python3", ["-c", "import sys,tarfile\nfor m in tarfile.open(sys.argv[1]): print(m.name)", path], { encoding: "utf8" }).stdout.split("\n");
    const transactions = names.filter((n) => /^A\/t/.test(n));
    expect(transactions).toHaveLength(3);
    buildArchive({ from: path, out: path, drop: [transactions[1]] });
    expectRefused(backups, parent, "backup-1-to-2.tgz", "gap: transaction", true);
  });

  test.skipIf(!tools.python)("a tar stream cut at an entry boundary (valid gzip, no end-of-archive blocks)", () => {
    const { backups, parent } = setup();
    const path = join(backups, "backup-1.tgz");
    const cut = String.raw`
import gzip, sys, tarfile
data = gzip.open(sys.argv[1]).read()
offsets = [m.offset for m in tarfile.open(sys.argv[1])]
open(sys.argv[1], "wb").write(gzip.compress(data[:offsets[len(offsets) // 2]]))
`;
    expect(spawnSync("python3", ["-c", cut, path]).status).toBe(0);
    expectRefused(backups, parent, "backup-1.tgz", "end-of-archive");
    expect(existsSync(join(parent, "restored"))).toBe(false);
  });
});
