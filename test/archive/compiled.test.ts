// The compression worker inside an executable made by `bun build --compile`:
// with gzip-worker.ts as an extra entry point (as scripts/build.ts must pass
// it) the embedded worker is used; without it the blocks are compressed
// inline, to the same bytes (there is no second copy of the worker's code).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as zlib from "node:zlib";
import { makeTree } from "./tree.ts";

const repo = resolve(import.meta.dir, "../..");
let dir: string;
let src: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "archive-compiled-"));
  src = join(dir, "src");
  makeTree(src, 4000, 11); // several 1 MiB blocks, so the workers run
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compile(entries: string[], outfile: string): void {
  const p = Bun.spawnSync([process.execPath, "build", "--compile", ...entries, "--outfile", outfile], { cwd: repo, stderr: "pipe", stdout: "pipe" });
  if (p.exitCode !== 0) throw new Error(`bun build --compile failed: ${p.stderr.toString()}`);
}

function runHarness(bin: string, out: string, env: Record<string, string> = {}) {
  // Run from another directory: nothing may be loaded from the source tree.
  const p = Bun.spawnSync([bin, src, out, "2"], { cwd: dir, env: { ...process.env, ...env }, stderr: "pipe", stdout: "pipe" });
  expect(p.stderr.toString()).toBe("");
  expect(p.exitCode).toBe(0);
  return JSON.parse(p.stdout.toString()) as { workerUrl?: string; result: { files: number; entries: number } };
}

describe("compiled executable", () => {
  test("with the worker entry point, the embedded worker compresses", () => {
    const bin = join(dir, "with-worker");
    compile(["test/archive/compiled-harness.ts", "src/archive/gzip-worker.ts"], bin);
    const out = join(dir, "with.tgz");
    const r = runHarness(bin, out);
    expect(r.workerUrl).toContain("/$bunfs/");
    expect(r.workerUrl).toEndWith("gzip-worker.ts");
    expect(r.result.files).toBe(4000);
    expect(zlib.gunzipSync(readFileSync(out)).length % 10240).toBe(0);
  }, 60_000);

  test("without it, the blocks are compressed inline and the output is the same", () => {
    const bin = join(dir, "without-worker");
    compile(["test/archive/compiled-harness.ts"], bin);
    const out = join(dir, "without.tgz");
    const r = runHarness(bin, out);
    expect(r.workerUrl).toBeUndefined();
    expect(readFileSync(out).equals(readFileSync(join(dir, "with.tgz")))).toBe(true);
  }, 60_000);

  test("the worker's code exists once: no string copy, no Blob-URL worker", () => {
    for (const file of ["src/archive/gzip.ts", "src/archive/writer.ts"]) {
      const text = readFileSync(join(repo, file), "utf8");
      expect(text).not.toContain("self.onmessage");
      expect(text).not.toContain("createObjectURL");
    }
  });

  test("the CLI built as scripts/build.ts must build it uses the embedded worker", async () => {
    const { createStorage } = await import("../fixtures/generator.ts");
    const home = join(dir, "storage");
    createStorage(home, { format: "bushy", transactions: 300, objectsPerTransaction: 10, pickleBytes: [400, 3200], seed: 5 });
    const bin = join(dir, "dsbackup");
    compile(["src/cli.ts", "src/archive/gzip-worker.ts"], bin);
    const p = Bun.spawnSync([bin, "--storage", home, "-q", "--output", "-", "full"], {
      cwd: dir,
      env: { ...process.env, DSBACKUP_DEBUG_WORKER: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(p.stderr.toString()).toBe("dsbackup: compression worker /$bunfs/root/archive/gzip-worker.ts\n");
    expect(p.exitCode).toBe(0);
    expect(zlib.gunzipSync(p.stdout).length).toBeGreaterThan(2 * 1024 * 1024);
  }, 60_000);
});
