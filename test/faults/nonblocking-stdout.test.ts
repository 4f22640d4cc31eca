// --output - into a pipe whose open file description is non-blocking (set
// by whoever shares it: a shell, a parent runtime, Bun itself) and whose
// reader is slow: every write that finds the pipe full must wait for the
// reader, and the archive that comes out must be whole.
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { BINARY, listArchive, tempDir, tools } from "../helpers.ts";

if (!tools.python) console.warn("SKIP: python3 not installed; it sets O_NONBLOCK on the pipe before starting dsbackup");

describe.skipIf(!tools.python)("non-blocking stdout pipe", () => {
  test("a slow reader gets the whole archive (no EAGAIN failure, nothing lost)", async () => {
    const dir = tempDir("nonblock");
    const home = join(dir, "storage");
    createStorage(home, { format: "bushy", transactions: 40, objectsPerTransaction: 10, seed: 6, pickleBytes: [4000, 12000] });
    // python3 puts the pipe's description in O_NONBLOCK, then becomes dsbackup.
    const wrapper = "import os,sys\nos.set_blocking(1, False)\nos.execv(sys.argv[1], sys.argv[1:])";
    const child = spawn("python3", ["-c", wrapper, BINARY, "--storage", home, "--jobs", "2", "--output", "-", "full"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const chunks: Buffer[] = [];
    await Bun.sleep(700); // nothing read yet: the pipe fills and stays full
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(stderr).not.toContain("EAGAIN");
    expect(code).toBe(0);
    const archive = join(dir, "out.tgz");
    writeFileSync(archive, Buffer.concat(chunks));
    expect(spawnSync("gzip", ["-t", archive]).status).toBe(0);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBeGreaterThan(512 * 1024); // far more than a pipe holds (64 KiB)
    expect(listArchive(archive).filter((n) => n.startsWith("A/")).length).toBeGreaterThan(400);
  }, 30_000);
});
