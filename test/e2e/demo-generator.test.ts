// The demo ends by reading back what it made (list, verify, restore) and
// suggests next commands, which all work; the fixture generator has a small
// command line to make an example storage of a chosen size and format.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readTree } from "../fixtures/generator.ts";
import { dsbackup, tempDir } from "../helpers.ts";

const repo = resolve(import.meta.dir, "../..");
const bun = (args: string[]) => spawnSync(process.execPath, args, { cwd: repo, encoding: "utf8", env: { ...process.env, TZ: "UTC" } });

describe("scripts/demo.ts", () => {
  test("ends with list, verify and a restore of what it made, then next commands that work", () => {
    const dir = join(tempDir("demo"), "demo");
    const r = bun(["scripts/demo.ts", "--dir", dir]);
    expect(r.stderr).not.toContain("demo: ");
    expect(r.status).toBe(0);
    const home = join(dir, "storage");
    expect(r.stdout).toContain(`$ dsbackup --storage ${home} list\n`);
    expect(r.stdout).toContain(`$ dsbackup --storage ${home} verify\n`);
    expect(r.stdout).toMatch(/^ok +demo-1-to-2\.tgz /m);
    expect(r.stdout).toContain(`$ dsbackup restore --backups ${home}/backups --to ${dir}/restored --verify\n`);
    expect(r.stdout).toMatch(/restored\/A: \d+ files, the same as /);
    expect(readTree(join(dir, "restored", "A")).size).toBeGreaterThan(100);
    const next = r.stdout.slice(r.stdout.indexOf("Next commands to try:"));
    const commands = next.split("\n").filter((l) => /^ {2}(dist\/dsbackup|bun) /.test(l)).map((l) => l.trim());
    expect(commands.length).toBeGreaterThanOrEqual(5);
    for (const command of commands) {
      const run = spawnSync("sh", ["-c", command.replace(/^bun /, `${JSON.stringify(process.execPath)} `)], { cwd: repo, encoding: "utf8" });
      expect({ command, status: run.status, stderr: run.status === 0 ? "" : run.stderr }).toEqual({ command, status: 0, stderr: "" });
    }
  }, 60_000);
});

describe("test/fixtures/generator.ts command line", () => {
  test("--help describes the options", () => {
    const r = bun(["test/fixtures/generator.ts", "--help"]);
    expect(r.status).toBe(0);
    for (const option of ["--format", "--size", "--transactions", "--objects", "--seed", "--crashed"]) expect(r.stdout).toContain(option);
  });

  test("--size and --format: a storage of about that size in that format, which dsbackup backs up and verifies", () => {
    const home = join(tempDir("gen-size"), "example");
    const r = bun(["test/fixtures/generator.ts", "--size", "400K", "--format", "chunky", home]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(join(home, "config", "settings"), "utf8")).toContain("format = chunky");
    const bytes = [...readTree(join(home, "A")).values()].reduce((n, b) => n + b.length, 0);
    expect(bytes).toBeGreaterThanOrEqual(400 * 1024);
    expect(bytes).toBeLessThan(1.3 * 400 * 1024);
    expect(r.stdout).toContain(`${home}: chunky storage`);
    expect(dsbackup(["-q", "--storage", home, "full"]).status).toBe(0);
    expect(dsbackup(["-q", "--storage", home, "verify"]).status).toBe(0);
  }, 30_000);

  test("--transactions and --crashed: exactly N transactions, no misc/snapshot", () => {
    const home = join(tempDir("gen-crashed"), "example");
    const r = bun(["test/fixtures/generator.ts", "--transactions", "4", "--format", "flat", "--crashed", home]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("flat storage, 4 transactions");
    expect(existsSync(join(home, "misc", "snapshot"))).toBe(false);
    expect(existsSync(join(home, "misc", "lock"))).toBe(true);
  });

  test("bad use: exit 2 and one line", () => {
    const dir = tempDir("gen-bad");
    for (const args of [["--format", "tree", join(dir, "a")], ["--size", "lots", join(dir, "b")], [], ["--size", "1M", "--transactions", "3", join(dir, "c")], [repo]]) {
      const r = bun(["test/fixtures/generator.ts", ...args]);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
