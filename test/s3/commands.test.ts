// Every command on an s3:// location, end to end: dist/dsbackup against the
// real RGW (test/s3/rgw.ts). Backups straight to a bucket and a restore on a
// "new machine", racing hosts, a frozen and a killed radosgw, wrong secret,
// missing bucket, a corrupted archive object, prune, --json without secrets.
import { expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { S3Location, s3ConfigFromEnv } from "../../src/location/s3.ts";
import { parseIndex } from "../../src/index/tindex.ts";
import { appendTransactions, createStorage, generatorMain } from "../fixtures/generator.ts";
import { BINARY, dsbackup, dsbackupAsync, expectedTree, extractedTree, tempDir } from "../helpers.ts";
import { newBucket, requireRgw, type Rgw } from "./rgw.ts";

const r = requireRgw("S3 command tests", test);
const t = r ? test : test.skip;
const SECRET = () => r!.env.AWS_SECRET_ACCESS_KEY!;
const env = (extra: Record<string, string> = {}) => ({ ...r!.env, ...extra });
const location = (bucket: string, prefix: string) => new S3Location(bucket, prefix, s3ConfigFromEnv(r!.env));
const noSecret = (...texts: string[]) => {
  for (const text of texts) expect(text).not.toContain(SECRET());
};

function storage(label: string, transactions = 40): string {
  const home = join(tempDir(label), "storage");
  createStorage(home, { format: "bushy", transactions, objectsPerTransaction: 4, seed: 7 });
  return home;
}

async function indexOf(bucket: string, prefix: string) {
  const snap = await location(bucket, prefix).readIndex();
  return { text: snap.content, entries: snap.content === undefined ? [] : parseIndex(snap.content, "tindex") };
}

const names = async (bucket: string, prefix: string) => (await location(bucket, prefix).list()).map((o) => o.name);

t("full then incrementals straight to a bucket; restore on a new machine (only the binary and AWS_*) byte-identical; list, verify, status --json without secrets", async () => {
  const bucket = await newBucket(r!, "e2e");
  const loc = `s3://${bucket}/zope`;
  const home = storage("s3-e2e");
  // No HOME/backups: --backups LOCATION is enough.
  let b = dsbackup(["--storage", home, "--backups", loc, "full"], { env: env() });
  expect(b.status).toBe(0);
  noSecret(b.stdout, b.stderr);
  for (let i = 0; i < 2; i++) {
    appendTransactions(home, { count: 5, seed: 10 + i });
    b = dsbackup(["--storage", home, "--backups", loc, "inc", "now"], { env: env() });
    expect(b.status).toBe(0);
  }
  expect(await names(bucket, "zope")).toEqual([".dsbackup-stats.json", "backup-1-to-2.tgz", "backup-1.tgz", "backup-2-to-3.tgz", "tindex"]);
  const index = await indexOf(bucket, "zope");
  expect(index.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
  for (const e of index.entries) expect(e.digests?.length).toBe(1);
  expect(index.entries[0]!.digests![0]!.name).toBe("backup-1.tgz");

  // The "new machine": another folder, no storage, only the executable and the credentials.
  const machine = tempDir("s3-new-machine");
  const target = join(machine, "restored");
  const rs = spawnSync(BINARY, ["restore", "--backups", loc, "--to", target], { cwd: machine, env: { PATH: "/usr/bin:/bin", ...r!.env }, encoding: "utf8" });
  expect(rs.stderr).toContain(`Restored sequence 3 into ${target}`);
  expect(rs.status).toBe(0);
  expect(extractedTree(target)).toEqual(expectedTree(home));

  const list = dsbackup(["list", "--backups", loc, "--json"], { env: env() });
  expect(list.status).toBe(0);
  const listed = JSON.parse(list.stdout);
  expect(listed.backups).toBe(loc);
  expect(listed.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
  expect(listed.entries[2].restore.backup.archives).toEqual(["backup-1.tgz", "backup-1-to-2.tgz", "backup-2-to-3.tgz"]);
  const verify = dsbackup(["verify", "--backups", loc, "--json"], { env: env() });
  expect(verify.status).toBe(0);
  const verified = JSON.parse(verify.stdout);
  expect(verified.ok).toBe(true);
  expect(verified.archives.map((a: { digestChecked: boolean }) => a.digestChecked)).toEqual([true, true, true]);
  const status = dsbackup(["status", "--backups", loc, "--json"], { env: env() });
  expect(status.status).toBe(0);
  expect(JSON.parse(status.stdout).newest.seq).toBe(3);
  noSecret(list.stdout, list.stderr, verify.stdout, verify.stderr, status.stdout, status.stderr);
}, 120_000);

t("a corrupted archive object: verify reports the sha256 mismatch, restore refuses before anything appears at TARGET", async () => {
  const bucket = await newBucket(r!, "corrupt");
  const loc = `s3://${bucket}/c`;
  const home = storage("s3-corrupt");
  expect(dsbackup(["--storage", home, "--backups", loc, "-q", "full"], { env: env() }).status).toBe(0);
  appendTransactions(home, { count: 3, seed: 3 });
  expect(dsbackup(["--storage", home, "--backups", loc, "-q", "inc", "now"], { env: env() }).status).toBe(0);
  // Overwrite the incremental with other valid bytes (the full archive): gzip and tar read fine.
  const s3 = location(bucket, "c");
  const parts: Uint8Array[] = [];
  for await (const c of await s3.read("backup-1.tgz")) parts.push(c);
  const w = await s3.write("backup-1-to-2.tgz");
  await w.write(Buffer.concat(parts));
  await w.commit();

  const v = dsbackup(["verify", "--backups", loc], { env: env() });
  expect(v.status).toBe(1);
  expect(v.stdout).toContain("FAILED backup-1-to-2.tgz");
  expect(v.stdout).toContain("backup-1-to-2.tgz: sha256 mismatch: the index recorded");
  const parent = tempDir("s3-corrupt-target");
  const rs = dsbackup(["restore", "--backups", loc, "--to", join(parent, "r")], { env: env() });
  expect(rs.status).toBe(1);
  expect(rs.stdout).toContain("sha256 mismatch");
  expect(rs.stderr).toContain("nothing was written to");
  expect(readdirSync(parent)).toEqual([]);
}, 120_000);

t("two hosts' backups racing on one location: exit 0 or 11, every index line has its complete archive, no sequence twice", async () => {
  if (spawnSync("unshare", ["--uts", "true"]).status !== 0) {
    console.warn("SKIP: racing hosts: unshare --uts is not permitted here (needs root)");
    return;
  }
  const bucket = await newBucket(r!, "race");
  const loc = `s3://${bucket}/r`;
  const homes = [storage("s3-race-a"), storage("s3-race-b")];
  const run = (host: string, home: string) =>
    new Promise<{ status: number; stderr: string }>((done) => {
      const child = spawn("unshare", ["--uts", "sh", "-c", `hostname ${host} && exec "$@"`, "sh", BINARY, "--storage", home, "--backups", loc, "-q", "full"], {
        env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", TZ: "UTC", ...r!.env },
      });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => done({ status: code ?? -1, stderr }));
    });
  const statuses: number[] = [];
  for (let round = 0; round < 4; round++) {
    const results = await Promise.all([run("host-a", homes[0]!), run("host-b", homes[1]!)]);
    for (const res of results) {
      expect([0, 11]).toContain(res.status);
      if (res.status === 11) expect(res.stderr).toMatch(/locked by backup on host host-[ab]|changed by another dsbackup/);
      noSecret(res.stderr);
      statuses.push(res.status);
    }
  }
  expect(statuses).toContain(0);
  const { entries } = await indexOf(bucket, "r");
  const seqs = entries.map((e) => e.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs.length).toBe(statuses.filter((s) => s === 0).length);
  const objects = new Map((await location(bucket, "r").list()).map((o) => [o.name, o.size]));
  for (const e of entries) {
    for (const d of e.digests!) expect(objects.get(d.name)).toBe(d.size);
  }
  expect(await location(bucket, "r").listIncompleteWrites()).toEqual([]);
  const v = dsbackup(["verify", "--backups", loc, "-q"], { env: env() });
  expect(v.status).toBe(0);
}, 300_000);

t("prune on a bucket: index lines first, then the archives", async () => {
  const bucket = await newBucket(r!, "prune");
  const loc = `s3://${bucket}/p`;
  const home = storage("s3-prune");
  for (let i = 0; i < 3; i++) {
    if (i > 0) appendTransactions(home, { count: 2, seed: 20 + i });
    expect(dsbackup(["--storage", home, "--backups", loc, "-q", "full"], { env: env() }).status).toBe(0);
  }
  const p = dsbackup(["prune", "--backups", loc, "--keep-full", "1"], { env: env() });
  expect(p.status).toBe(0);
  expect(p.stdout).toContain("deleted backup-1.tgz");
  expect(p.stdout).toContain("deleted backup-2.tgz");
  expect((await names(bucket, "p")).filter((n) => n.endsWith(".tgz"))).toEqual(["backup-3.tgz"]);
  expect((await indexOf(bucket, "p")).entries.map((e) => e.seq)).toEqual([3]);
  const again = dsbackup(["prune", "--backups", loc, "--keep-full", "1"], { env: env() });
  expect(again.stdout).toContain("nothing to prune");
}, 120_000);

t("wrong secret: exit 17, one line, no secret; missing bucket: exit 18", async () => {
  const bucket = await newBucket(r!, "cred");
  const home = storage("s3-cred", 5);
  const wrong = "wrong-secret-not-to-be-printed";
  for (const args of [["--storage", home, "--backups", `s3://${bucket}/x`, "full"], ["list", "--backups", `s3://${bucket}/x`], ["verify", "--backups", `s3://${bucket}/x`, "--json"]]) {
    const res = dsbackup(args, { env: env({ AWS_SECRET_ACCESS_KEY: wrong }) });
    expect(res.status).toBe(17);
    expect(res.stderr).toContain(`s3://${bucket}/x: cannot check the bucket: the S3 server refused the credentials`);
    expect(res.stderr.trim().split("\n").length).toBe(1);
    expect(res.stderr + res.stdout).not.toContain(wrong);
  }
  const missing = dsbackup(["--storage", home, "--backups", "s3://no-such-bucket-here/x", "full"], { env: env() });
  expect(missing.status).toBe(18);
  expect(missing.stderr).toContain("s3://no-such-bucket-here/x: cannot check the bucket: the bucket does not exist");
  expect(dsbackup(["list", "--backups", "s3://no-such-bucket-here"], { env: env() }).status).toBe(18);
}, 60_000);

/** A storage big enough that its full backup is still uploading when we act. */
function bigStorage(label: string): string {
  const home = join(tempDir(label), "storage");
  expect(generatorMain(["--size", "60M", home], () => {})).toBe(0);
  return home;
}

/** Start a full backup to `loc` and wait until its multipart upload exists (a part is out). */
async function startUpload(home: string, loc: string, bucket: string, prefix: string, extra: Record<string, string>) {
  const run = dsbackupAsync(["--storage", home, "--backups", loc, "--jobs", "1", "--level", "1", "full"], { env: env(extra) });
  const s3 = location(bucket, prefix);
  const t0 = performance.now();
  while ((await s3.listIncompleteWrites()).length === 0) {
    if (run.child.exitCode !== null || performance.now() - t0 > 60_000) throw new Error(`no upload started: ${(await run.done).stderr}`);
    await Bun.sleep(50);
  }
  return run;
}

/**
 * After SIGCONT or a restart, radosgw takes a while to work through the
 * frozen run's connections: wait until a small upload goes through (the
 * next run is then measured against a gateway that answers, not one recovering).
 */
async function gatewayTakesWrites(bucket: string, prefix: string): Promise<void> {
  const s3 = location(bucket, prefix);
  const t0 = performance.now();
  let restarted = false;
  for (;;) {
    try {
      const w = await s3.write("gateway-probe", { signal: AbortSignal.timeout(10_000) });
      await w.write(new TextEncoder().encode("probe"));
      await w.commit();
      await s3.delete("gateway-probe");
      return;
    } catch (err) {
      if (performance.now() - t0 > 120_000) throw new Error(`radosgw takes no writes 120 s after it was resumed: ${(err as Error).message}`);
      if (!restarted && performance.now() - t0 > 30_000) {
        // A gateway wedged by the freeze: start it again on the same cluster (the upload's parts stay in RADOS).
        restarted = true;
        try { process.kill(r!.pid, "SIGKILL"); } catch { /* already gone */ }
        await Bun.sleep(1000);
        const restart = spawnSync(resolve(import.meta.dir, "rgw.sh"), ["restart-gateway"], { encoding: "utf8", timeout: 120_000 });
        const pid = Number(/RGW_PID=(\d+)/.exec(restart.stdout)?.[1]);
        if (pid > 0) (r as Rgw).pid = pid;
      }
      await Bun.sleep(1000);
    }
  }
}

async function nextRunAbortsLeftover(home: string, loc: string, bucket: string, prefix: string, indexBefore: string | undefined) {
  const s3 = location(bucket, prefix);
  expect((await names(bucket, prefix)).filter((n) => n.endsWith(".tgz"))).toEqual(["backup-1.tgz"]);
  expect((await indexOf(bucket, prefix)).text).toBe(indexBefore);
  expect((await s3.listIncompleteWrites()).length).toBeGreaterThan(0);
  await gatewayTakesWrites(bucket, prefix);
  const next = dsbackup(["--storage", home, "--backups", loc, "--jobs", "1", "--level", "1", "full"], { env: env() });
  expect(next.status).toBe(0);
  expect(next.stderr).toMatch(/Aborted \d+ incomplete writes? under s3:\/\/\S+ left by a run that did not finish \(backup-2\.tgz\)/);
  expect(await s3.listIncompleteWrites()).toEqual([]);
  // Nothing of the failed run was committed, so its sequence number is free again.
  expect((await indexOf(bucket, prefix)).entries.map((e) => e.seq)).toEqual([1, 2]);
  rmSync(dirname(home), { recursive: true, force: true }); // big: not left for the end of the run
}

t("radosgw frozen (SIGSTOP) mid-upload: the run fails within the timeout; nothing of it visible, index unchanged; the next run aborts the leftover", async () => {
  const bucket = await newBucket(r!, "freeze");
  const loc = `s3://${bucket}/f`;
  const home = bigStorage("s3-freeze");
  const small = storage("s3-freeze-first", 5);
  expect(dsbackup(["--storage", small, "--backups", loc, "-q", "full"], { env: env() }).status).toBe(0);
  const before = (await indexOf(bucket, "f")).text;
  const run = await startUpload(home, loc, bucket, "f", { DSBACKUP_S3_TIMEOUT_MS: "3000" });
  process.kill(r!.pid, "SIGSTOP");
  const t0 = performance.now();
  let result;
  try {
    result = await run.done;
  } finally {
    process.kill(r!.pid, "SIGCONT");
  }
  const seconds = (performance.now() - t0) / 1000;
  expect(result.status).toBe(20);
  expect(result.stderr).toContain("no answer from the S3 server within 3000 ms (DSBACKUP_S3_TIMEOUT_MS)");
  expect(result.stderr).toContain("nothing was committed");
  noSecret(result.stderr);
  // The timeout, then the clean-up calls' (capped) timeouts against the frozen server.
  expect(seconds).toBeLessThan(3 + 3 * 5 + 5);
  await nextRunAbortsLeftover(home, loc, bucket, "f", before);
}, 420_000);

t("radosgw killed mid-upload: the run fails; after a restart nothing of it visible, index unchanged; the next run aborts the leftover", async () => {
  const bucket = await newBucket(r!, "kill");
  const loc = `s3://${bucket}/k`;
  const home = bigStorage("s3-kill");
  const small = storage("s3-kill-first", 5);
  expect(dsbackup(["--storage", small, "--backups", loc, "-q", "full"], { env: env() }).status).toBe(0);
  const before = (await indexOf(bucket, "k")).text;
  const run = await startUpload(home, loc, bucket, "k", { DSBACKUP_S3_TIMEOUT_MS: "5000" });
  process.kill(r!.pid, "SIGKILL");
  const result = await run.done;
  expect([19, 20, 1]).toContain(result.status);
  expect(result.stderr).toMatch(/^dsbackup: s3:\/\/\S+: cannot /m);
  expect(result.stderr).toContain("nothing was committed");
  const gone = () => { try { process.kill(r!.pid, 0); return false; } catch { return true; } };
  for (let i = 0; i < 100 && !gone(); i++) await Bun.sleep(100);
  const restart = spawnSync(resolve(import.meta.dir, "rgw.sh"), ["restart-gateway"], { encoding: "utf8", timeout: 120_000 });
  expect(restart.stderr).toBe("");
  expect(restart.status).toBe(0);
  const pid = Number(/RGW_PID=(\d+)/.exec(restart.stdout)?.[1]);
  (r as Rgw).pid = pid; // later tests signal the new radosgw
  await nextRunAbortsLeftover(home, loc, bucket, "k", before);
}, 300_000);

t("SIGTERM mid-upload: exit 130, the upload is aborted by the run itself, the index and the bucket unchanged", async () => {
  const bucket = await newBucket(r!, "term");
  const loc = `s3://${bucket}/t`;
  const home = bigStorage("s3-term");
  const small = storage("s3-term-first", 5);
  expect(dsbackup(["--storage", small, "--backups", loc, "-q", "full"], { env: env() }).status).toBe(0);
  const before = (await indexOf(bucket, "t")).text;
  const run = await startUpload(home, loc, bucket, "t", {});
  run.child.kill("SIGTERM");
  const result = await run.done;
  expect(result.status).toBe(130);
  expect(result.stderr).toContain("interrupted by SIGTERM; nothing was committed");
  expect(await location(bucket, "t").listIncompleteWrites()).toEqual([]);
  expect((await names(bucket, "t")).filter((n) => n.endsWith(".tgz") || n === ".tindex.lock")).toEqual(["backup-1.tgz"]);
  expect((await indexOf(bucket, "t")).text).toBe(before);
  rmSync(dirname(home), { recursive: true, force: true });
}, 420_000);

t("the folder location still works as before beside it (HOME/backups by default)", () => {
  const home = storage("s3-folder", 5);
  const b = dsbackup(["--storage", home, "-q", "full"]);
  expect(b.status).toBe(0);
  expect(readdirSync(join(home, "backups")).filter((n) => n.endsWith(".tgz"))).toEqual(["backup-1.tgz"]);
});
