// Encrypted backups straight to a bucket (issues 12 and 13 together): the
// archives arrive as NAME.tgz.age with the ciphertext's sha256 in the index,
// verify checks them without a key, the age CLI decrypts what the bucket
// holds, and a restore from the bucket with the identity is byte-identical;
// a wrong identity is exit 21 with nothing at TARGET.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../src/errors.ts";
import { parseIndex } from "../../src/index/tindex.ts";
import { S3Location, s3ConfigFromEnv } from "../../src/location/s3.ts";
import { appendTransactions, createStorage } from "../fixtures/generator.ts";
import { dsbackup, expectedTree, extractedTree, hasCommand, tempDir } from "../helpers.ts";
import { newBucket, requireRgw } from "./rgw.ts";

const r = requireRgw("encrypted S3 backups", test);
const hasAge = hasCommand("age-keygen", "--version");
if (!hasAge) console.warn("SKIP: age not installed (apt-get install age); encrypted backups to a bucket are not tested");
const t = r && hasAge ? test : test.skip;

function keyPair(label: string): { path: string; recipient: string } {
  const path = join(tempDir(label), "key.txt");
  const made = spawnSync("age-keygen", ["-o", path], { encoding: "utf8" });
  expect(made.status).toBe(0);
  const recipient = /age1[0-9a-z]+/.exec(made.stderr + made.stdout)![0];
  return { path, recipient };
}

t("full and incremental encrypted to a bucket; verify without a key; age -d reads the object; restore with the identity byte-identical; a wrong one is exit 21", async () => {
  const env = r!.env;
  const bucket = await newBucket(r!, "enc");
  const loc = `s3://${bucket}/zope`;
  const home = join(tempDir("s3-enc"), "storage");
  createStorage(home, { format: "lawn", transactions: 30, objectsPerTransaction: 4, seed: 5 });
  const key = keyPair("s3-enc-key");
  expect(dsbackup(["--storage", home, "--backups", loc, "--recipient", key.recipient, "-q", "full"], { env }).status).toBe(0);
  appendTransactions(home, { count: 4, seed: 6 });
  expect(dsbackup(["--storage", home, "--backups", loc, "--recipient", key.recipient, "-q", "inc", "now"], { env }).status).toBe(0);

  const s3 = new S3Location(bucket, "zope", s3ConfigFromEnv(env));
  const objects = (await s3.list()).map((o) => o.name).filter((n) => n.includes(".tgz"));
  expect(objects).toEqual(["backup-1-to-2.tgz.age", "backup-1.tgz.age"]);
  const entries = parseIndex((await s3.readIndex()).content!, "tindex");
  expect(entries.map((e) => e.digests?.[0]?.name)).toEqual(["backup-1.tgz.age", "backup-1-to-2.tgz.age"]);

  // What the bucket holds is an age file the age CLI opens.
  const copy = join(tempDir("s3-enc-object"), "backup-1.tgz.age");
  const parts: Uint8Array[] = [];
  for await (const chunk of await s3.read("backup-1.tgz.age")) parts.push(chunk);
  writeFileSync(copy, Buffer.concat(parts));
  const listed = spawnSync("sh", ["-c", `age -d -i ${key.path} ${copy} | tar tz`], { encoding: "utf8" });
  expect(listed.status).toBe(0);
  expect(listed.stdout).toContain("A/");

  const keyless = dsbackup(["verify", "--backups", loc, "--json"], { env });
  expect(keyless.status).toBe(0);
  const report = JSON.parse(keyless.stdout);
  expect(report.archives.map((a: { checkedWithoutKey: boolean; digestChecked: boolean }) => [a.checkedWithoutKey, a.digestChecked])).toEqual([[true, true], [true, true]]);

  const wrong = keyPair("s3-enc-wrong");
  const refused = join(tempDir("s3-enc-refused"), "restored");
  const bad = dsbackup(["restore", "--backups", loc, "--to", refused, "--identity", wrong.path], { env });
  expect(bad.status).toBe(ExitCode.noKey);
  expect(bad.stderr.trimEnd().split("\n").at(-1)).toContain("backup-1.tgz.age");
  expect(existsSync(refused)).toBe(false);

  const target = join(tempDir("s3-enc-restore"), "restored");
  const ok = dsbackup(["restore", "--backups", loc, "--to", target, "--identity", key.path, "--verify"], { env });
  expect(ok.status).toBe(0);
  expect(extractedTree(target)).toEqual(expectedTree(home));
  for (const out of [keyless.stdout, keyless.stderr, bad.stdout, bad.stderr, ok.stdout, ok.stderr]) {
    expect(out).not.toContain(env.AWS_SECRET_ACCESS_KEY!);
    expect(out).not.toContain("AGE-SECRET-KEY-");
  }
}, 120_000);
