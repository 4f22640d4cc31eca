// Every error path of every command, in one sweep: the last line of stderr is
// `dsbackup: ...`, no line of a stack trace appears anywhere, and the exit
// status is one the README's exit table documents.
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { dsbackup, tempDir, tools, type RunResult } from "../helpers.ts";
import { canStrace, runCommand, straceArgs } from "./common.ts";

/** Exit codes listed in README.md's "Exit status" table. */
function documentedCodes(): Set<number> {
  const readme = readFileSync(resolve(import.meta.dir, "../../README.md"), "utf8");
  const table = readme.slice(readme.indexOf("## Exit status"), readme.indexOf("\n## ", readme.indexOf("## Exit status") + 5));
  return new Set([...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])));
}

interface ErrorCase {
  name: string;
  run: () => RunResult | Promise<RunResult>;
  code: number;
}

function storage(label: string, transactions = 4) {
  const home = join(tempDir(label), "storage");
  createStorage(home, { format: "flat", transactions, seed: 1 });
  return home;
}

function cases(): ErrorCase[] {
  const home = storage("lines");
  const backed = storage("lines-backed");
  expect(dsbackup(["--storage", backed, "-q", "full"]).status).toBe(0);
  const badIndex = storage("lines-index");
  writeFileSync(join(badIndex, "backups", "tindex"), "1 2 3\n");
  const truncated = storage("lines-trunc");
  expect(dsbackup(["--storage", truncated, "-q", "full"]).status).toBe(0);
  truncateSync(join(truncated, "backups", "backup-1.tgz"), 200);
  const notEmpty = tempDir("lines-target");
  writeFileSync(join(notEmpty, "x"), "");
  const plainFile = join(tempDir("lines-file"), "f");
  writeFileSync(plainFile, "");
  const empty = tempDir("lines-empty-backups");
  mkdirSync(join(empty, "b"));

  const list: ErrorCase[] = [
    { name: "no arguments at all", run: () => dsbackup([]), code: 2 },
    { name: "unknown option", run: () => dsbackup(["--storage", home, "--frobnicate", "full"]), code: 2 },
    { name: "unknown command word", run: () => dsbackup(["--storage", home, "fulll"]), code: 2 },
    { name: "inc without WHEN", run: () => dsbackup(["--storage", home, "inc"]), code: 2 },
    { name: "bad time string", run: () => dsbackup(["--storage", home, "inc", "\u001b[31mnever"]), code: 2 },
    { name: "bad prefix", run: () => dsbackup(["--storage", home, "prefix", "../x", "full"]), code: 2 },
    { name: "bad --level", run: () => dsbackup(["--storage", home, "--level", "0", "full"]), code: 2 },
    { name: "bad --jobs", run: () => dsbackup(["--storage", home, "--jobs", "many", "full"]), code: 2 },
    { name: "--output to a file", run: () => dsbackup(["--storage", home, "--output", "x.tgz", "full"]), code: 2 },
    { name: "--output - with two archives", run: () => dsbackup(["--storage", home, "--output", "-", "full", "prefix", "b", "full"]), code: 2 },
    { name: "no --storage", run: () => dsbackup(["full"]), code: 2 },
    { name: "--storage is a file", run: () => dsbackup(["--storage", plainFile, "full"]), code: 10 },
    { name: "--storage /", run: () => dsbackup(["--storage", "/", "full"]), code: 10 },
    { name: "SNAPSHOT_TIMESTAMP in the future", run: () => dsbackup(["full"], { env: { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: home, SNAPSHOT_TIMESTAMP: String(Date.now()) } }), code: 12 },
    { name: "bad SNAPSHOT_VERSION", run: () => dsbackup(["full"], { env: { SNAPSHOT_VERSION: "9", SNAPSHOT_DIRECTORY: home } }), code: 12 },
    { name: "corrupt index", run: () => dsbackup(["--storage", badIndex, "full"]), code: 13 },
    { name: "no reference backup", run: () => dsbackup(["--storage", home, "inc", "36 hours ago"]), code: 13 },
    {
      name: "snapshot time before the newest index entry",
      run: () => dsbackup(["full"], { env: { SNAPSHOT_VERSION: "2", SNAPSHOT_DIRECTORY: backed, SNAPSHOT_TIMESTAMP: String(Math.floor(Date.now() / 1000) - 3600) } }),
      code: 13,
    },
    { name: "date: invalid date", run: () => dsbackup(["date", "-d", "not a date"]), code: 1 },
    { name: "date: unknown option", run: () => dsbackup(["date", "--bogus"]), code: 2 },
    { name: "list: no backups folder", run: () => dsbackup(["list", "--backups", join(empty, "nope")]), code: 10 },
    { name: "list: bad index", run: () => dsbackup(["list", "--storage", badIndex]), code: 13 },
    { name: "restore: no --to", run: () => dsbackup(["restore", "--storage", backed]), code: 2 },
    { name: "restore: target not empty", run: () => dsbackup(["restore", "--storage", backed, "--to", notEmpty]), code: 2 },
    { name: "restore: bad --seq", run: () => dsbackup(["restore", "--storage", backed, "--seq", "x", "--to", join(notEmpty, "y")]), code: 2 },
    { name: "restore: no such sequence", run: () => dsbackup(["restore", "--storage", backed, "--seq", "99", "--to", join(tempDir("t99"), "r")]), code: 1 },
    { name: "restore: truncated archive", run: () => dsbackup(["restore", "--storage", truncated, "--to", join(tempDir("tt"), "r")]), code: 1 },
    { name: "verify: truncated archive", run: () => dsbackup(["verify", "--storage", truncated]), code: 1 },
    { name: "verify: archive not there", run: () => dsbackup(["verify", "--storage", backed, "backup-7.tgz"]), code: 2 },
    { name: "prune: no --keep-full", run: () => dsbackup(["prune", "--storage", backed]), code: 2 },
    { name: "snapshot: no command", run: () => dsbackup(["snapshot", "--storage", home]), code: 2 },
    { name: "snapshot: command not found", run: () => dsbackup(["snapshot", "--storage", home, "--", "/nonexistent/cmd"]), code: 127 },
    { name: "snapshot: not a storage", run: () => dsbackup(["snapshot", "--storage", plainFile, "--", "true"]), code: 10 },
    {
      name: "interrupted (SIGINT)",
      code: 130,
      run: async () => {
        const big = join(tempDir("lines-int"), "storage");
        createStorage(big, { format: "flat", transactions: 120, objectsPerTransaction: 6, pickleBytes: [3000, 6000], seed: 2 });
        const child = spawn(resolve(import.meta.dir, "../../dist/dsbackup"), ["--storage", big, "--jobs", "1", "--level", "9", "full"], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        await new Promise<void>((ok) => child.stderr.on("data", () => stderr.includes("Creating full backup") && ok()));
        child.kill("SIGINT");
        const status = await new Promise<number>((ok) => child.on("close", (c) => ok(c ?? -1)));
        return { status, stdout: "", stderr };
      },
    },
  ];
  if (tools.python) {
    list.push({
      name: "locked",
      code: 11,
      run: async () => {
        const holder = spawn("python3", ["-c", "import fcntl,sys\nf=open(sys.argv[1],'a')\nfcntl.flock(f,fcntl.LOCK_EX)\nprint(1,flush=True)\nsys.stdin.read()", join(home, "misc", "sublock")]);
        await new Promise<void>((ok) => holder.stdout.once("data", () => ok()));
        const r = dsbackup(["--storage", home, "full"]);
        holder.stdin.end();
        await new Promise((ok) => holder.on("close", ok));
        return r;
      },
    });
  }
  if (canStrace) {
    // Faults injected into one file's system calls (the runtime's own calls are left alone).
    const injected = (label: string, file: (home: string) => string, inject: string) => {
      const h = storage(label);
      return runCommand(straceArgs(["-P", file(h), "-e", `trace=${inject.split(":")[0]}`, "-e", `inject=${inject}`]), ["--storage", h, "full"]);
    };
    const settings = (h: string) => join(h, "config", "settings");
    const revision = (h: string) => join(h, "A", "x.oid");
    list.push({ name: "ENOSPC from fsync", code: 14, run: () => injected("l-nospc", (h) => join(h, "backups"), "fsync:error=ENOSPC") });
    list.push({ name: "EIO reading config/settings", code: 1, run: () => injected("l-eio", settings, "read:error=EIO") });
    list.push({ name: "EMFILE opening a file in A/", code: 1, run: () => injected("l-emfile", revision, "openat:error=EMFILE") });
    list.push({ name: "ENAMETOOLONG opening a file in A/", code: 1, run: () => injected("l-long", revision, "openat:error=ENAMETOOLONG") });
  }
  return list;
}

if (!tools.python) console.warn("SKIP: python3 not installed; the lock error is left out of the error sweep");
if (!canStrace) console.warn("SKIP: strace not usable here; injected ENOSPC/EIO/EMFILE are left out of the error sweep");

describe("every error is one line, with a documented exit code, and never a stack trace", () => {
  test("the sweep", async () => {
    const codes = documentedCodes();
    expect(codes.size).toBeGreaterThan(8);
    const failures: string[] = [];
    for (const c of cases()) {
      const r = await c.run();
      const lines = r.stderr.trimEnd().split("\n");
      const trace = lines.filter((l) => /^\s+at /.test(l));
      if (trace.length > 0) failures.push(`${c.name}: stack trace: ${trace[0]}`);
      if (!/^dsbackup: \S/.test(lines.at(-1) ?? "")) failures.push(`${c.name}: last line is ${JSON.stringify(lines.at(-1))}`);
      if (lines.some((l) => l.includes("internal error"))) failures.push(`${c.name}: internal error: ${lines.at(-1)}`);
      if (r.status !== c.code) failures.push(`${c.name}: exit ${r.status}, expected ${c.code} (${lines.at(-1)})`);
      if (!codes.has(r.status)) failures.push(`${c.name}: exit ${r.status} is not in README's exit table`);
    }
    expect(failures).toEqual([]);
  });
});
