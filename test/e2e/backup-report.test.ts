// End-to-end: a backup run reports itself (closing summary on stderr, --json
// on stdout, also for refusals), shows what each WHEN means and which
// reference it picked, refuses an empty --output - stream with its own exit
// status, waits with --wait while the storage is locked or recombining, and
// names each snapshot.conf method's failure.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createStorage } from "../fixtures/generator.ts";
import { startToolkit, type Toolkit } from "../fixtures/toolkit.ts";
import { dsbackup, dsbackupAsync, filesIn, holdFlockWithPython, tempDir, tools } from "../helpers.ts";

const running: Toolkit[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
});
if (!tools.python) console.warn("SKIP: python3 not installed; the --wait and toolkit tests need its flock holder");

function storage(label: string): string {
  const home = join(tempDir(label), "storage");
  createStorage(home, { format: "bushy", transactions: 5, objectsPerTransaction: 3, seed: 4 });
  writeFileSync(join(home, "config", "access"), "admin:pw-secret\n");
  return home;
}

/** Regular files in an uncompressed tar stream (ustar typeflag '0' or NUL). */
function tarFileCount(tar: Buffer): number {
  let n = 0;
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(header.subarray(124, 136).toString("latin1").replace(/\0.*$/, "").trim() || "0", 8);
    const type = header[156];
    if (type === 0x30 || type === 0) n++;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return n;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** Run as under the snapshot tool, with a snapshot time `ago` seconds back. */
const snapshotEnv = (home: string, ago: number) => ({
  SNAPSHOT_VERSION: "2",
  SNAPSHOT_DIRECTORY: home,
  SNAPSHOT_TIMESTAMP: String(nowSeconds() - ago),
});

describe("the closing summary", () => {
  test("sequence, each archive's files, tar and compressed sizes, duration and the commit; -q hides it", () => {
    const home = storage("summary");
    const r = dsbackup(["--storage", home, "full", "prefix", "other", "full"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^Backup 1 finished in \d+\.\d s: 2 archives, index line committed to .*\/backups\/tindex$/m);
    const tar = gunzipSync(readFileSync(join(home, "backups", "backup-1.tgz")));
    const files = tarFileCount(tar);
    expect(files).toBeGreaterThan(10);
    expect(r.stderr).toMatch(new RegExp(`^  backup-1\\.tgz +full +${files} files, tar \\d+(\\.\\d)? KiB, compressed \\d+(\\.\\d)? KiB$`, "m"));
    expect(r.stderr).toMatch(/^  other-1\.tgz +full +\d+ files, tar/m);
    const q = dsbackup(["-q", "--storage", home, "full"]);
    expect(q.status).toBe(0);
    expect(q.stderr).toBe("");
  });

  test("--json: one document on stdout with the facts of the run", () => {
    const home = storage("json");
    const r = dsbackup(["--storage", home, "--json", "full"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    const archive = join(home, "backups", "backup-1.tgz");
    const tar = gunzipSync(readFileSync(archive));
    const line = readFileSync(join(home, "backups", "tindex"), "utf8").trim().split("\n").at(-1);
    expect(doc).toMatchObject({
      messageType: "summary",
      ok: true,
      exitStatus: 0,
      error: null,
      storage: home,
      backups: join(home, "backups"),
      seq: 1,
      indexCommitted: true,
      indexLine: line,
      refusals: [],
      steps: [{ command: "full", prefix: "backup", when: null, reference: null, outcome: "written", archive: "backup-1.tgz" }],
    });
    expect(doc.archives).toHaveLength(1);
    expect(doc.archives[0]).toMatchObject({
      name: "backup-1.tgz",
      prefix: "backup",
      kind: "full",
      reference: null,
      path: archive,
      streamed: false,
      files: tarFileCount(tar),
      tarBytes: tar.length,
      compressedBytes: statSync(archive).size,
    });
    expect(doc.totalFiles).toBe(doc.archives[0].files);
    expect(doc.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(doc.time).toBe(new Date(doc.timestamp * 1000).toISOString().replace(".000Z", "Z"));
  });

  test("--json on a refusal: the reason and the refusal's exit status, one error line on stderr", () => {
    const home = storage("json-refused");
    const r = dsbackup(["-q", "--storage", home, "--json", "inc", "1 hour ago"]);
    expect(r.status).toBe(13);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.exitStatus).toBe(13);
    expect(doc.error).toContain("No previous backup");
    expect(doc.steps[0]).toMatchObject({ command: "inc", when: "1 hour ago", reference: null, outcome: "refused" });
    expect(doc.indexCommitted).toBe(false);
    expect(r.stderr.trim().split("\n")).toEqual([`dsbackup: ${doc.error}`]);
  });

  test("--json when the run cannot start (not a storage): exit 10 and a document all the same", () => {
    const dir = tempDir("json-nostorage");
    const r = dsbackup(["--storage", dir, "--json", "full"]);
    expect(r.status).toBe(10);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, exitStatus: 10, seq: null, archives: [], indexCommitted: false, storage: dir });
  });

  test("--json with --output - is a usage error: standard output carries the archive", () => {
    const home = storage("json-output");
    const r = dsbackup(["--storage", home, "--json", "--output", "-", "full"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--json and --output -");
    expect(filesIn(join(home, "backups"))).toEqual([]);
  });
});

describe("--output - with nothing to write", () => {
  test("inc with nothing changed: exit 16, zero bytes, a message on stderr, no index line", () => {
    const home = storage("empty-stream");
    expect(dsbackup(["-q", "--storage", home, "full"]).status).toBe(0);
    const index = readFileSync(join(home, "backups", "tindex"), "utf8");
    const r = dsbackup(["-q", "--storage", home, "--output", "-", "inc", "now"]);
    expect(r.status).toBe(16);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("nothing changed since backup 1");
    expect(r.stderr).toContain("no archive was written to standard output");
    expect(readFileSync(join(home, "backups", "tindex"), "utf8")).toBe(index);
    // Into backups/ an empty incremental stays what the original tool made it: a note, exit 0.
    const plain = dsbackup(["--storage", home, "inc", "now"]);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toContain("Ignoring empty incremental backup");
  });

  test("the exit-status table in --help lists 16", () => {
    const r = dsbackup(["--help"]);
    expect(r.stdout).toMatch(/^ {2}16 +--output -: nothing changed/m);
  });
});

describe("WHEN resolved", () => {
  test("the instant in TZ and UTC, the reference and why", () => {
    const home = storage("when");
    // Backups 1 and 2, taken 11 and 10 hours ago (as the snapshot tool may say).
    expect(dsbackup(["-q", "full"], { env: snapshotEnv(home, 11 * 3600) }).status).toBe(0);
    expect(dsbackup(["-q", "full"], { env: snapshotEnv(home, 10 * 3600) }).status).toBe(0);
    const when = nowSeconds() - Math.round(10.5 * 3600);
    const r = dsbackup(["--storage", home, "inc", `@${when}`], { env: { TZ: "Europe/Berlin" } });
    expect(r.status).toBe(0);
    const utc = new Date(when * 1000).toISOString().replace("T", " ").replace(/\.000Z$/, " UTC");
    const line = r.stderr.split("\n").find((l) => l.startsWith(`inc "@${when}" means `));
    expect(line).toBeDefined();
    expect(line).toMatch(/ CE[S]?T = /);
    expect(line).toContain(`= ${utc}`);
    expect(line).toMatch(/reference: backup 1, taken .* CES?T = .* UTC: the newest backup taken at or before then \(backup 2, taken .*, is later\)/);
  });

  test("a WHEN in the future is a warning; no reference mentions --or-full", () => {
    const home = storage("when-future");
    const none = dsbackup(["-q", "--storage", home, "inc", "2 hours ago"]);
    expect(none.status).toBe(13);
    expect(none.stderr).toContain("--or-full");
    expect(none.stderr).toContain("the index has no backups yet");
    expect(dsbackup(["-q", "--storage", home, "full"]).status).toBe(0);
    const r = dsbackup(["-q", "--storage", home, "inc", "tomorrow"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^dsbackup: warning: inc "tomorrow" is in the future \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/m);
    const past = dsbackup(["-q", "--storage", home, "inc", "yesterday"]);
    expect(past.stderr).not.toContain("is in the future");
  });
});

describe.skipIf(!tools.python)("--wait: retry while the storage is locked or busy", () => {
  test("recombining: without --wait exit 11 saying so and that --wait helps; with --wait the backup is made", async () => {
    const home = storage("recombining");
    const toolkit = await startToolkit(home, { user: "admin", password: "pw-secret" });
    running.push(toolkit);
    writeFileSync(join(home, "config", "snapshot.conf"), `http ${toolkit.url} access\n`);
    toolkit.faultCount = 1;
    const r = await dsbackupAsync(["-q", "--storage", home, "full"]).done;
    expect(r.status).toBe(11);
    expect(r.stderr).toContain("busy recombining");
    expect(r.stderr).toContain("snapshot already in use by 'recombining/1'");
    expect(r.stderr).toContain("--wait SECONDS");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);

    toolkit.faultCount = 2;
    const started = Date.now();
    const w = await dsbackupAsync(["--storage", home, "--wait", "20", "full"]).done;
    expect(w.status).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(3500); // two retries, 2 s apart
    expect(w.stderr.match(/Retrying in 2 s \(--wait 20\): .*busy recombining/g)).toHaveLength(2);
    expect(filesIn(join(home, "backups"))).toContain("backup-1.tgz");
    expect(toolkit.active.size).toBe(0);
  }, 30_000);

  test("a held lock: --wait runs out, exit 11 saying how long it waited", async () => {
    const home = storage("wait-out");
    const holder = await holdFlockWithPython(join(home, "misc", "sublock"));
    try {
      const r = await dsbackupAsync(["-q", "--storage", home, "--wait", "2", "full"]).done;
      expect(r.status).toBe(11);
      expect(r.stderr).toContain("still so after --wait 2 s");
      expect(filesIn(join(home, "backups"))).toEqual([]);
    } finally {
      await holder.release();
    }
  }, 30_000);

  test("--wait takes whole seconds", () => {
    const r = dsbackup(["--storage", storage("wait-bad"), "--wait", "soon", "full"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--wait SECONDS: SECONDS must be a whole number");
  });
});

describe("snapshot.conf methods", () => {
  test("http and nodirect: the exit-12 message says why the http method failed", () => {
    const home = storage("nodirect");
    unlinkSync(join(home, "misc", "snapshot")); // crashed, or running without holding its lock
    writeFileSync(join(home, "config", "snapshot.conf"), "http http://127.0.0.1:1/tk access\nnodirect\n");
    const r = dsbackup(["--storage", home, "full"]);
    expect(r.status).toBe(12);
    expect(r.stderr).toContain("nodirect");
    expect(r.stderr).toContain("enterSnapshot at http://127.0.0.1:1/tk");
    expect(r.stderr).toContain("connection refused");
  });

  test("direct writes a code into misc/snapshot, as the storage does", () => {
    const home = storage("direct-code");
    unlinkSync(join(home, "misc", "snapshot"));
    rmSync(join(home, "config", "snapshot.conf"), { force: true });
    const r = dsbackup(["-q", "--storage", home, "full"]);
    expect(r.status).toBe(0);
    expect(existsSync(join(home, "misc", "snapshot"))).toBe(true);
    expect(readFileSync(join(home, "misc", "snapshot"), "utf8")).toBe("dsbackup-direct");
  });
});
