// One table of interface tests run against both implementations: a folder
// and a bucket on the real Ceph RGW (test/s3/rgw.ts).
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { IndexConflictError, LockedError, ObjectNotFoundError } from "../../src/errors.ts";
import { FolderLocation } from "../../src/location/folder.ts";
import type { Location } from "../../src/location/location.ts";
import { S3Location, s3ConfigFromEnv } from "../../src/location/s3.ts";
import { signRequest } from "../../src/location/s3-sign.ts";
import { tempDir } from "../helpers.ts";
import { newBucket, requireRgw } from "./rgw.ts";

const MiB = 1024 * 1024;

interface Impl {
  name: string;
  make(): Promise<Location>;
  /** Leave a write behind the way a killed run would. */
  leaveIncomplete(loc: Location, name: string): Promise<void>;
}

const r = requireRgw("S3 location tests", test);

const impls: Impl[] = [
  {
    name: "folder",
    make: async () => new FolderLocation(tempDir("loc")),
    async leaveIncomplete(loc, name) {
      // A temp file of this host whose process is gone (pid above any real one).
      const { hostname } = await import("node:os");
      writeFileSync(join((loc as FolderLocation).dir, `.tmp-${hostname()}-999999999-${name}`), "partial");
    },
  },
];
if (r) {
  impls.push({
    name: "s3",
    make: async () => new S3Location(await newBucket(r, "loc"), "site/backups", { ...s3ConfigFromEnv({ ...r.env, DSBACKUP_S3_TIMEOUT_MS: "20000" }), partSize: 5 * MiB }),
    async leaveIncomplete(loc, name) {
      // A multipart upload that is started and never completed (the process "died").
      const s3 = loc as S3Location;
      const url = new URL(`${s3.config.endpoint}/${s3.bucket}/site/backups/${name}?uploads`);
      const headers = signRequest({ method: "POST", url, region: s3.config.region, credentials: s3.config.credentials, now: new Date() });
      delete headers.host;
      const res = await fetch(url, { method: "POST", headers });
      if (!res.ok) throw new Error(`initiate multipart upload: HTTP ${res.status}`);
    },
  });
}

const enc = (s: string) => new TextEncoder().encode(s);
async function readAll(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}
async function put(loc: Location, name: string, data: Uint8Array) {
  const w = await loc.write(name);
  await w.write(data);
  return w.commit();
}

for (const impl of impls) {
  describe(`${impl.name} location`, () => {
    test("write, read, range, list, stat, delete", async () => {
      const loc = await impl.make();
      const data = new Uint8Array(7 * MiB + 123).map((_, i) => (i * 31) & 255);
      const w = await loc.write("full-1.tgz");
      for (let off = 0; off < data.length; off += 1 * MiB) await w.write(data.subarray(off, off + MiB));
      const written = await w.commit();
      expect(written).toEqual({ name: "full-1.tgz", size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
      await put(loc, "inc-1-to-2.tgz", enc("small"));
      expect(await loc.list()).toEqual([
        { name: "full-1.tgz", size: data.length },
        { name: "inc-1-to-2.tgz", size: 5 },
      ]);
      expect(await loc.stat("full-1.tgz")).toEqual({ name: "full-1.tgz", size: data.length });
      expect(await loc.stat("nothing")).toBeUndefined();
      expect((await readAll(await loc.read("full-1.tgz"))).equals(Buffer.from(data))).toBe(true);
      const part = await readAll(await loc.read("full-1.tgz", { start: 5 * MiB - 3, end: 5 * MiB + 10 }));
      expect(part.equals(Buffer.from(data.subarray(5 * MiB - 3, 5 * MiB + 10)))).toBe(true);
      expect((await readAll(await loc.read("inc-1-to-2.tgz", { start: 2 }))).toString()).toBe("all");
      await loc.delete("inc-1-to-2.tgz");
      await loc.delete("inc-1-to-2.tgz"); // a missing object is no error
      expect((await loc.list()).map((o) => o.name)).toEqual(["full-1.tgz"]);
      expect(loc.read("inc-1-to-2.tgz")).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    test("an object appears only on commit; an aborted one never", async () => {
      const loc = await impl.make();
      const w = await loc.write("full-3.tgz");
      await w.write(new Uint8Array(6 * MiB));
      expect((await loc.list()).map((o) => o.name).filter((n) => !n.startsWith("."))).toEqual([]);
      expect(await loc.stat("full-3.tgz")).toBeUndefined();
      await w.abort();
      await w.abort(); // twice is harmless
      expect(await loc.list()).toEqual([]);
      expect(await loc.listIncompleteWrites()).toEqual([]);
      const w2 = await loc.write("full-4.tgz");
      await w2.write(new Uint8Array(10));
      await w2.commit();
      expect((await loc.list()).map((o) => o.name)).toEqual(["full-4.tgz"]);
    });

    test("the index is replaced only if unchanged: of two writers one wins, the other gets a conflict", async () => {
      const loc = await impl.make();
      expect(await loc.readIndex()).toEqual({ content: undefined, token: null });
      const t1 = await loc.replaceIndex("header\n1 100 00\n", null);
      // A second "first index" loses.
      expect(loc.replaceIndex("header\nother\n", null)).rejects.toBeInstanceOf(IndexConflictError);
      const a = await loc.readIndex();
      const b = await loc.readIndex();
      expect(a).toEqual({ content: "header\n1 100 00\n", token: t1 });
      const results = await Promise.allSettled([loc.replaceIndex(`${a.content}2 200 A\n`, a.token), loc.replaceIndex(`${b.content}2 200 B\n`, b.token)]);
      const won = results.filter((x) => x.status === "fulfilled");
      const lost = results.filter((x) => x.status === "rejected");
      expect(won.length).toBe(1);
      expect(lost.length).toBe(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(IndexConflictError);
      expect((lost[0] as PromiseRejectedResult).reason.exitCode).toBe(11);
      const now = await loc.readIndex();
      expect(now.token).toBe((won[0] as PromiseFulfilledResult<string>).value);
      expect(now.content).toMatch(/^header\n1 100 00\n2 200 [AB]\n$/);
      // The loser re-reads and commits on top: nothing lost.
      await loc.replaceIndex(`${now.content}3 300 C\n`, now.token);
      expect((await loc.readIndex()).content).toMatch(/\n3 300 C\n$/);
    });

    test("one lock holder: a second lock is refused naming the holder; free after release", async () => {
      const loc = await impl.make();
      const warnings: string[] = [];
      const held = await loc.lock({ purpose: "backup", warn: (m) => warnings.push(m) });
      expect(held.info.pid).toBe(process.pid);
      const refused = await loc.lock({ purpose: "prune", warn: (m) => warnings.push(m) }).catch((e) => e);
      expect(refused).toBeInstanceOf(LockedError);
      expect(refused.exitCode).toBe(11);
      await held.refresh();
      await held.release();
      await held.release();
      const again = await loc.lock({ purpose: "prune", warn: (m) => warnings.push(m) });
      await again.release();
      expect(warnings).toEqual([]);
    });

    test("a killed run's incomplete write is listed and aborted", async () => {
      const loc = await impl.make();
      await impl.leaveIncomplete(loc, "full-9.tgz");
      const left = await loc.listIncompleteWrites();
      expect(left.map((w) => w.name)).toEqual(["full-9.tgz"]);
      expect(await loc.abortIncompleteWrites(left)).toBe(1);
      expect(await loc.listIncompleteWrites()).toEqual([]);
      expect((await loc.list()).map((o) => o.name).filter((n) => !n.startsWith("."))).toEqual([]);
    });
  });
}
