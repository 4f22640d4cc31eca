// S3 failures against the real RGW: each gets its own typed error and exit
// status, one line naming the location and the operation, and no secret.
import { expect, test } from "bun:test";
import { createServer } from "node:net";
import { ExitCode, S3CredentialsError, S3NoBucketError, S3TimeoutError, S3UnreachableError, type DsError } from "../../src/errors.ts";
import { S3Location, s3ConfigFromEnv, type S3Config } from "../../src/location/s3.ts";
import { newBucket, requireRgw } from "./rgw.ts";

const MiB = 1024 * 1024;
const r = requireRgw("S3 failure tests", test);
const t = r ? test : test.skip;

function config(env: Record<string, string> = {}): S3Config {
  return { ...s3ConfigFromEnv({ ...r!.env, DSBACKUP_S3_TIMEOUT_MS: "3000", ...env }), partSize: 5 * MiB, backoffMs: 50 };
}
async function failure(p: Promise<unknown>, what = "the call"): Promise<DsError> {
  const e = await p.then(() => undefined, (err) => err);
  if (!e) throw new Error(`expected a failure of ${what}`);
  return e as DsError;
}
function oneLine(e: Error, secret: string) {
  expect(e.message).not.toContain("\n");
  expect(e.message).not.toContain(secret);
}

t("wrong secret: credentials error (exit 17) for every kind of call", async () => {
  const bucket = await newBucket(r!, "cred");
  const loc = new S3Location(bucket, "x", config({ AWS_SECRET_ACCESS_KEY: "wrong-secret-value" }));
  for (const call of [() => loc.list(), () => loc.readIndex(), () => loc.checkBucket(), () => loc.replaceIndex("x\n", null), () => loc.read("a")]) {
    const e = await failure(call());
    expect(e).toBeInstanceOf(S3CredentialsError);
    expect(e.exitCode).toBe(ExitCode.s3Credentials);
    expect(e.message).toContain(`s3://${bucket}/x: cannot `);
    oneLine(e, "wrong-secret-value");
  }
  const w = await loc.write("a");
  await w.write(new Uint8Array(10));
  expect(await failure(w.commit())).toBeInstanceOf(S3CredentialsError);
});

t("missing bucket: its own error (exit 20)", async () => {
  const loc = new S3Location("no-such-bucket-here", "", config());
  for (const call of [() => loc.checkBucket(), () => loc.list(), () => loc.readIndex(), () => loc.listIncompleteWrites()]) {
    const e = await failure(call());
    expect(e).toBeInstanceOf(S3NoBucketError);
    expect(e.exitCode).toBe(ExitCode.s3NoBucket);
    expect(e.message).toStartWith("s3://no-such-bucket-here: cannot ");
  }
});

t("refused connection (a closed port): unreachable (exit 19), at once", async () => {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  const loc = new S3Location("some-bucket", "p", config({ AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` }));
  const t0 = performance.now();
  for (const call of [() => loc.list(), () => loc.readIndex()]) {
    const e = await failure(call());
    expect(e).toBeInstanceOf(S3UnreachableError);
    expect(e.exitCode).toBe(ExitCode.s3Unreachable);
    oneLine(e, r!.env.AWS_SECRET_ACCESS_KEY!);
  }
  expect(performance.now() - t0).toBeLessThan(2000);
});

t("radosgw frozen (SIGSTOP): calls and an upload fail within the timeout; after SIGCONT nothing appeared and the leftover is aborted", async () => {
  const bucket = await newBucket(r!, "stop");
  const loc = new S3Location(bucket, "b", config({ DSBACKUP_S3_TIMEOUT_MS: "1500" }));
  await loc.replaceIndex("header\n", null);
  const w = await loc.write("full-1.tgz");
  await w.write(new Uint8Array(6 * MiB)); // the first part is out: a multipart upload exists
  process.kill(r!.pid, "SIGSTOP");
  try {
    const t0 = performance.now();
    const e = await failure(loc.readIndex());
    expect(e).toBeInstanceOf(S3TimeoutError);
    expect(e.exitCode).toBe(ExitCode.s3Timeout);
    expect(e.message).toContain("within 1500 ms (DSBACKUP_S3_TIMEOUT_MS)");
    expect(performance.now() - t0).toBeLessThan(3000);
    const t1 = performance.now();
    const up = await failure((async () => { for (let i = 0; i < 4; i++) await w.write(new Uint8Array(2 * MiB)); await w.commit(); })());
    expect(up).toBeInstanceOf(S3TimeoutError);
    expect(performance.now() - t1).toBeLessThan(8000); // the timeout, then the abort attempts' timeouts
  } finally {
    process.kill(r!.pid, "SIGCONT");
  }
  expect((await loc.list()).map((o) => o.name)).toEqual(["tindex"]);
  expect((await loc.readIndex()).content).toBe("header\n");
  // The writer's own abort timed out against the frozen server: the next run finds and aborts the upload.
  const left = await loc.listIncompleteWrites();
  expect(left.map((l) => l.name)).toEqual(["full-1.tgz"]);
  expect(await loc.abortIncompleteWrites(left)).toBe(1);
  expect(await loc.listIncompleteWrites()).toEqual([]);
}, 60_000);

t("a stale lock is taken over with a warning naming its host and pid; the old holder cannot refresh", async () => {
  const bucket = await newBucket(r!, "lock");
  const loc = new S3Location(bucket, "", config());
  const old = await loc.lock({ purpose: "backup", leaseMs: 1000, refreshEveryMs: 0, warn: () => {} });
  await Bun.sleep(2100); // Last-Modified has one-second resolution
  const warnings: string[] = [];
  const taker = await loc.lock({ purpose: "backup", leaseMs: 1000, refreshEveryMs: 0, warn: (m) => warnings.push(m) });
  expect(warnings.length).toBe(1);
  expect(warnings[0]).toContain(`took over the lock of backup on host ${old.info.host} pid ${process.pid}`);
  expect(old.refresh()).rejects.toThrow(/taken over/);
  await old.release(); // must not remove the taker's lock
  const fresh = await failure(loc.lock({ purpose: "prune", warn: () => {} }));
  expect(fresh.exitCode).toBe(11);
  await taker.release();
  await (await loc.lock({ purpose: "prune", warn: () => {} })).release();
}, 30_000);
