// dsbackup copy end to end on the compiled binary: real backups in a
// folder, copied to a bucket on the real RGW, back down to folders and
// bucket to bucket, twice each; refusals, --prefix, --dry-run, --json. The
// folder-only cases run without RGW too.
import { beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../src/errors.ts";
import { parseIndex } from "../../src/index/tindex.ts";
import { S3Location, s3ConfigFromEnv } from "../../src/location/s3.ts";
import { appendTransactions, createStorage } from "../fixtures/generator.ts";
import { dsbackup, dsbackupAsync, expectedTree, extractedTree, tempDir, type RunResult } from "../helpers.ts";
import { newBucket, requireRgw } from "./rgw.ts";

const r = requireRgw("copy to and from buckets", test);
const s3test = r ? test : test.skip;
const env = r?.env ?? {};
const SECRET = env.AWS_SECRET_ACCESS_KEY ?? "no-secret";

const NOW = () => Math.floor(Date.now() / 1000);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const archivesIn = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".tgz")).sort();
/** The index lines without their comments (copy adds sha256 items). */
const bareLines = (dir: string) => parseIndex(readFileSync(join(dir, "tindex"), "utf8"), dir).map((e) => `${e.seq} ${e.timestamp} ${e.tid}`);
/** Names in a folder but the lock file (.tindex.lock) every index writer leaves. */
const visible = (dir: string) => readdirSync(dir).filter((n) => n !== ".tindex.lock").sort();
const indexText = (dir: string) => readFileSync(join(dir, "tindex"), "utf8");

function copy(args: string[]): RunResult {
  const res = dsbackup(["copy", ...args], { env });
  // No secret in any output, whatever happened.
  expect(res.stdout + res.stderr).not.toContain(SECRET);
  return res;
}
function ok(res: RunResult): RunResult {
  if (res.status !== 0) throw new Error(`copy failed (${res.status}): ${res.stderr}`);
  return res;
}

// The source: s-1 full, s-1-to-2, s-2-to-3, t-4 full, a full streamed to
// stdout at 5 (`# stdout s-5.tgz`), s-5-to-6 starting from it.
let home = "";
let backups = "";
let treeAt3 = new Map<string, Buffer>();
let treeAt4 = new Map<string, Buffer>();
beforeAll(() => {
  home = join(tempDir("copy-src"), "storage");
  createStorage(home, { format: "bushy", transactions: 8, objectsPerTransaction: 4, seed: 12 });
  const run = (args: string[]) => {
    const res = dsbackup(["--storage", home, "-q", ...args]);
    if (res.status !== 0) throw new Error(`backup ${args.join(" ")}: ${res.stderr}`);
  };
  run(["prefix", "s", "full"]);
  for (const seed of [1, 2]) {
    appendTransactions(home, { count: 4, objectsPerTransaction: 3, seed });
    run(["prefix", "s", "inc", String(NOW() + 10)]);
  }
  treeAt3 = expectedTree(home);
  appendTransactions(home, { count: 3, seed: 3 });
  run(["prefix", "t", "full"]);
  treeAt4 = expectedTree(home);
  appendTransactions(home, { count: 3, seed: 4 });
  run(["--output", "-", "prefix", "s", "full"]);
  appendTransactions(home, { count: 3, seed: 5 });
  run(["prefix", "s", "inc", String(NOW() + 10)]);
  backups = join(home, "backups");
  expect(archivesIn(backups)).toEqual(["s-1-to-2.tgz", "s-1.tgz", "s-2-to-3.tgz", "s-5-to-6.tgz", "t-4.tgz"]);
  expect(indexText(backups)).toContain("# stdout s-5.tgz");
}, 60_000);

/** The copy's tindex: the source's lines, each recording its archives' true size and sha256. */
function expectFaithfulCopy(dir: string, lines = bareLines(backups), names = archivesIn(backups)) {
  expect(bareLines(dir)).toEqual(lines);
  expect(archivesIn(dir)).toEqual(names);
  const entries = parseIndex(indexText(dir), dir);
  for (const name of names) {
    const bytes = readFileSync(join(dir, name));
    expect(bytes.equals(readFileSync(join(backups, name)))).toBe(true);
    const recorded = entries.flatMap((e) => e.digests ?? []).filter((d) => d.name === name);
    expect(recorded).toEqual([{ name, size: bytes.length, sha256: sha(bytes) }]);
  }
}

describe("copy round trip", () => {
  s3test("folder -> bucket -> folder, bucket -> bucket -> folder, twice each; the last folder restores byte-identical", async () => {
    const b1 = `s3://${await newBucket(r!, "copy")}/site/backups`;
    const b2 = `s3://${await newBucket(r!, "copy")}/x`;
    const down1 = join(tempDir("copy-down"), "backups");
    const down2 = join(tempDir("copy-down"), "backups");
    const steps = [
      ["--storage", home, "--to", b1],
      ["--backups", b1, "--to", down1],
      ["--backups", b1, "--to", b2],
      ["--backups", b2, "--to", down2],
    ];
    for (const args of steps) {
      const first = ok(copy(args));
      expect(first.stdout).toContain("Copied 5 archives");
      for (const name of archivesIn(backups)) expect(first.stdout).toMatch(new RegExp(`^copied ${name.replace(/\./g, "\\.")} \\(.*sha256 [0-9a-f]{64}\\)`, "m"));
      const second = ok(copy(args));
      expect(second.stdout).toMatch(/^nothing to copy: \S+ already has every archive of \S+\n$/);
    }
    expectFaithfulCopy(down1);
    expectFaithfulCopy(down2);
    // verify finds in the copy exactly what it finds in the source (every archive ok; restore point 6
    // needs s-5.tgz, which went to standard output).
    const verify = (dir: string) => dsbackup(["verify", "--backups", dir]).stdout.replaceAll(dir, "DIR");
    expect(verify(down2)).toBe(verify(backups));
    expect(verify(down2).match(/^ok /gm)).toHaveLength(5);
    // The bucket's index is the same text as the folders' copies of it.
    expect(indexText(down2)).toBe(indexText(down1));
    for (const [args, tree] of [[["--prefix", "s", "--seq", "3"], treeAt3], [["--prefix", "t"], treeAt4]] as const) {
      const target = join(tempDir("copy-restore"), "restored");
      const res = dsbackup(["restore", "--backups", down2, "--to", target, ...args]);
      expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
      expect(extractedTree(target)).toEqual(tree);
    }
    // And straight from the bucket again, when the folder copy already has all: still nothing to do.
    expect(ok(copy(["--backups", b2, "--to", down1])).stdout).toStartWith("nothing to copy");
  }, 60_000);

  test("folder -> folder (no RGW needed): the same faithful copy, and the second run copies nothing", () => {
    const dest = join(tempDir("copy-ff"), "deep", "backups");
    const first = ok(copy(["--storage", home, "--to", dest]));
    expect(first.stderr).toContain(`Created ${dest}`);
    expectFaithfulCopy(dest);
    const again = ok(copy(["--backups", backups, "--to", dest]));
    expect(again.stdout).toBe(`nothing to copy: ${dest} already has every archive of ${backups}\n`);
  }, 60_000);
});

describe("refusals: exit 13 and nothing copied", () => {
  test("the two indexes disagree about a sequence number: both lines named", () => {
    const dest = tempDir("copy-disagree");
    const src = parseIndex(indexText(backups), backups)[2]!; // sequence 3
    const theirs = `3     ${src.timestamp + 60}   ${src.tid}\n`;
    writeFileSync(join(dest, "tindex"), theirs);
    const res = copy(["--storage", home, "--to", dest]);
    expect(res.status).toBe(ExitCode.refused);
    expect(res.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(res.stderr).toContain("the indexes disagree about sequence 3");
    expect(res.stderr).toContain(`"${theirs.trimEnd()}"`);
    expect(res.stderr).toContain(`"${indexText(backups).split("\n")[src.line - 1]!.trimEnd()}"`);
    expect(visible(dest)).toEqual(["tindex"]);
    expect(indexText(dest)).toBe(theirs);
  }, 60_000);

  test("an archive in the destination with other bytes (same size, no recorded sha256) is never overwritten", () => {
    const dest = tempDir("copy-bytes");
    const original = readFileSync(join(backups, "s-1-to-2.tgz"));
    const other = Buffer.from(original);
    other[100] = other[100]! ^ 0xff;
    writeFileSync(join(dest, "s-1-to-2.tgz"), other);
    const res = copy(["--backups", backups, "--to", dest]);
    expect(res.status).toBe(ExitCode.refused);
    expect(res.stderr).toContain("s-1-to-2.tgz is in both locations but differs: sha256 ");
    expect(visible(dest)).toEqual(["s-1-to-2.tgz"]);
    expect(readFileSync(join(dest, "s-1-to-2.tgz")).equals(other)).toBe(true);
    // Another size: refused the same way.
    writeFileSync(join(dest, "s-1-to-2.tgz"), original.subarray(0, 1000));
    const shorter = copy(["--backups", backups, "--to", dest]);
    expect(shorter.status).toBe(ExitCode.refused);
    expect(shorter.stderr).toContain(`${original.length} bytes in ${backups}, 1000 bytes in ${dest}`);
  }, 60_000);

  s3test("in a bucket: an object with other bytes than the sha256 its index records", async () => {
    const bucket = `s3://${await newBucket(r!, "copy")}/b`;
    ok(copy(["--backups", backups, "--to", bucket, "--prefix", "t"]));
    // Replace t-4.tgz's bytes (same size) behind copy's back; its index line still records the old sha256.
    const loc = new S3Location(bucket.slice(5).split("/")[0]!, "b", s3ConfigFromEnv(env));
    const original = readFileSync(join(backups, "t-4.tgz"));
    const w = await loc.write("t-4.tgz");
    await w.write(Buffer.alloc(original.length, 7));
    await w.commit();
    const res = copy(["--backups", bucket, "--to", join(tempDir("copy-bad"), "d")]);
    expect(res.status).toBe(1); // the bucket's object fails its own recorded sha256 on the way down
    expect(res.stderr).toContain("t-4.tgz failed its check during the copy");
    expect(res.stderr).toContain(`the source's index records ${original.length} bytes with sha256 ${sha(original)}`);
  }, 60_000);
});

test("a source without tindex is refused (exit 13); an archive without an index line is named and not copied", () => {
  const src = tempDir("copy-noindex");
  writeFileSync(join(src, "x-1.tgz"), "x");
  const none = copy(["--backups", src, "--to", join(src, "d")]);
  expect(none.status).toBe(ExitCode.refused);
  expect(none.stderr).toContain(`${src} has no tindex`);
  writeFileSync(join(src, "tindex"), "2     1790000000   0000000000000002\n");
  writeFileSync(join(src, "x-2.tgz"), "y");
  const res = ok(copy(["--backups", src, "--to", join(src, "d")]));
  expect(res.stderr).toContain("x-1.tgz is not in the index of");
  expect(archivesIn(join(src, "d"))).toEqual(["x-2.tgz"]);
}, 60_000);

describe("--prefix, --dry-run, --json", () => {
  test("--prefix copies only that prefix's archives, plus the streamed reference line its incremental starts from", () => {
    const dest = join(tempDir("copy-prefix"), "b");
    ok(copy(["--backups", backups, "--to", dest, "--prefix", "t"]));
    const all = bareLines(backups);
    expect(archivesIn(dest)).toEqual(["t-4.tgz"]);
    expect(bareLines(dest)).toEqual([all[3]!]);
    const s = ok(copy(["--backups", backups, "--to", dest, "--prefix", "s"]));
    expect(s.stdout).toContain("Copied 4 archives");
    expectFaithfulCopy(dest);
    // Line 5 went along without an archive, its comment kept.
    expect(indexText(dest)).toContain("# stdout s-5.tgz");
    expect(ok(copy(["--backups", backups, "--to", dest])).stdout).toStartWith("nothing to copy");
  }, 60_000);

  test("--dry-run lists what would be copied and changes nothing (a missing folder is not created)", () => {
    const dest = join(tempDir("copy-dry"), "b");
    const res = ok(copy(["--backups", backups, "--to", dest, "--dry-run"]));
    for (const name of archivesIn(backups)) expect(res.stdout).toContain(`would copy ${name} (`);
    expect(res.stdout).toContain("would add index line 6 ");
    expect(res.stdout).toContain("Would copy 5 archives");
    expect(existsSync(dest)).toBe(false);
    ok(copy(["--backups", backups, "--to", dest, "--prefix", "t"]));
    const before = indexText(dest);
    const dry = ok(copy(["--backups", backups, "--to", dest, "--dry-run"]));
    expect(dry.stdout).toContain("Would copy 4 archives");
    expect(indexText(dest)).toBe(before);
    expect(archivesIn(dest)).toEqual(["t-4.tgz"]);
  }, 60_000);

  test("--json: one document with the documented keys", () => {
    const dest = join(tempDir("copy-json"), "b");
    const res = ok(copy(["--backups", backups, "--to", dest, "--json", "--prefix", "t"]));
    const doc = JSON.parse(res.stdout);
    expect(Object.keys(doc).sort()).toEqual(
      ["abortedIncompleteWrites", "alreadyPresent", "bytesCopied", "copied", "destination", "dryRun", "indexLines", "indexWritten", "notIndexed", "prefix", "referenceLines", "seconds", "shadowed", "source", "wouldCopy"].sort(),
    );
    const bytes = readFileSync(join(backups, "t-4.tgz"));
    expect(doc).toMatchObject({
      source: backups,
      destination: dest,
      prefix: "t",
      dryRun: false,
      copied: [{ name: "t-4.tgz", size: bytes.length, sha256: sha(bytes) }],
      indexWritten: true,
      bytesCopied: bytes.length,
      alreadyPresent: [],
    });
    expect(doc.indexLines).toEqual([{ seq: 4, kind: "added", line: expect.stringContaining(`# sha256 t-4.tgz ${bytes.length} ${sha(bytes)}`) }]);
    const again = JSON.parse(ok(copy(["--backups", backups, "--to", dest, "--json", "--prefix", "t"])).stdout);
    expect(again).toMatchObject({ copied: [], indexWritten: false, alreadyPresent: [{ name: "t-4.tgz", size: bytes.length, sha256: sha(bytes) }] });
  }, 60_000);
});

s3test("a wrong secret (exit 17) and a missing bucket (exit 18): one line, no secret, nothing copied", async () => {
  const bucket = await newBucket(r!, "copy");
  const wrong = dsbackup(["copy", "--backups", backups, "--to", `s3://${bucket}/p`], { env: { ...env, AWS_SECRET_ACCESS_KEY: "wrong-secret-1234567890" } });
  expect(wrong.status).toBe(ExitCode.s3Credentials);
  expect(wrong.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(wrong.stdout + wrong.stderr).not.toContain("wrong-secret-1234567890");
  const missing = copy(["--backups", `s3://no-such-bucket-${process.pid}/p`, "--to", join(tempDir("copy-nb"), "d")]);
  expect(missing.status).toBe(ExitCode.s3NoBucket);
  const loc = new S3Location(bucket, "p", s3ConfigFromEnv(env));
  expect(await loc.list()).toEqual([]);
}, 60_000);

describe("interrupted and killed copies", () => {
  /** A source whose one archive is big enough (random, 96 MiB) to be caught mid-upload. */
  function bigSource(): string {
    const dir = tempDir("copy-big");
    writeFileSync(join(dir, "tindex"), "1     1790000000   0000000000000001\n");
    writeFileSync(join(dir, "big-1.tgz"), randomBytes(96 << 20));
    return dir;
  }
  async function startCopy(args: string[]) {
    const run = dsbackupAsync(["copy", ...args], { env });
    let err = "";
    run.child.stderr!.on("data", (d) => (err += d));
    const t0 = Date.now();
    while (!err.includes("Copying big-1.tgz") && Date.now() - t0 < 20_000) await Bun.sleep(20);
    await Bun.sleep(400); // some parts are on their way
    return run;
  }

  s3test("SIGINT mid-upload: exit 130, no object and no index appear, nothing is left incomplete", async () => {
    const src = bigSource();
    const name = await newBucket(r!, "copy");
    const run = await startCopy(["--backups", src, "--to", `s3://${name}/p`]);
    run.child.kill("SIGINT");
    const res = await run.done;
    expect(res.status).toBe(ExitCode.interrupted);
    expect(res.stderr + res.stdout).not.toContain(SECRET);
    const loc = new S3Location(name, "p", s3ConfigFromEnv(env));
    expect(await loc.list()).toEqual([]);
    expect(await loc.listIncompleteWrites()).toEqual([]);
  }, 60_000);

  s3test("SIGKILL mid-upload: the next copy aborts the leftover upload, says so, and copies", async () => {
    const src = bigSource();
    const name = await newBucket(r!, "copy");
    const run = await startCopy(["--backups", src, "--to", `s3://${name}/p`]);
    run.child.kill("SIGKILL");
    await run.done;
    const loc = new S3Location(name, "p", s3ConfigFromEnv(env));
    expect((await loc.listIncompleteWrites()).map((w) => w.name)).toEqual(["big-1.tgz"]);
    expect((await loc.list()).map((o) => o.name)).not.toContain("big-1.tgz");
    // The killed run's lock is fresh, but it names this host and a pid that is gone: taken over at once, with a warning.
    const next = ok(copy(["--backups", src, "--to", `s3://${name}/p`]));
    expect(next.stderr).toContain("took over the lock of");
    expect(next.stderr).toContain(`s3://${name}/p: aborted 1 incomplete write of a killed run: big-1.tgz`);
    expect(await loc.listIncompleteWrites()).toEqual([]);
    expect((await loc.stat("big-1.tgz"))?.size).toBe(96 << 20);
  }, 60_000);
});
