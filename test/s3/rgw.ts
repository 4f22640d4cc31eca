// The real Ceph RGW the S3 tests run against: started once per test process
// by test/s3/rgw.sh (or a running one reused), stopped by test/setup.ts's
// afterAll through stopRgwIfStarted. Without RGW the tests say SKIP, except
// under CI=true, where a missing RGW fails them.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { signRequest } from "../../src/location/s3-sign.ts";

const SCRIPT = resolve(import.meta.dir, "rgw.sh");

export interface Rgw {
  env: Record<string, string>;
  endpoint: string;
  pid: number;
}

let started: { rgw?: Rgw; reason?: string; ownedByUs: boolean } | undefined;

/** Start (or reuse) the RGW; undefined with the reason in rgwSkipReason() if it cannot run. */
export function rgw(): Rgw | undefined {
  if (started) return started.rgw;
  const reused = spawnSync(SCRIPT, ["env"], { encoding: "utf8" }).status === 0;
  const t0 = performance.now();
  const r = spawnSync(SCRIPT, ["start"], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    started = { reason: (r.stderr || r.error?.message || "rgw.sh start failed").trim().split("\n").at(-1), ownedByUs: false };
    return undefined;
  }
  const env: Record<string, string> = {};
  for (const line of r.stdout.trim().split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  const pid = Number(env.RGW_PID);
  delete env.RGW_PID;
  if (!reused) console.warn(`rgw: started in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  started = { rgw: { env, endpoint: env.AWS_ENDPOINT_URL!, pid }, ownedByUs: !reused };
  return started.rgw;
}

export function rgwSkipReason(): string {
  return started?.reason ?? "RGW not started";
}

/**
 * Call at the top of an S3 test file: the RGW, or undefined after printing
 * SKIP (and, under CI=true, registering a failing test: CI must run them).
 */
export function requireRgw(what: string, failTest: (name: string, fn: () => void) => void): Rgw | undefined {
  const r = rgw();
  if (r) return r;
  if (process.env.CI === "true") {
    failTest(`RGW must run under CI (${what})`, () => {
      throw new Error(`RGW could not start: ${rgwSkipReason()}`);
    });
  } else {
    console.warn(`SKIP: ${what}: Ceph RGW cannot start here (${rgwSkipReason()}); apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw`);
  }
  return undefined;
}

/** Stop radosgw, the OSD and the monitor if this process started them. */
export function stopRgwIfStarted(): void {
  if (started?.ownedByUs) spawnSync(SCRIPT, ["stop"], { encoding: "utf8", timeout: 60_000 });
  started = undefined;
}

let buckets = 0;
/** A new empty bucket (S3 has no CLI here: one signed PUT). */
export async function newBucket(r: Rgw, label = "t"): Promise<string> {
  const name = `ds-${label}-${process.pid}-${++buckets}-${Date.now() % 100000}`;
  const url = new URL(`${r.endpoint}/${name}`);
  const headers = signRequest({
    method: "PUT",
    url,
    region: "us-east-1",
    credentials: { accessKeyId: r.env.AWS_ACCESS_KEY_ID!, secretAccessKey: r.env.AWS_SECRET_ACCESS_KEY! },
    now: new Date(),
  });
  delete headers.host;
  const res = await fetch(url, { method: "PUT", headers });
  if (!res.ok) throw new Error(`create bucket ${name}: HTTP ${res.status} ${await res.text()}`);
  return name;
}
