// Shared tools of the fault suite: the state a failed run must leave alone,
// the one-line error rule, running the binary in the background, and the
// privileged helpers (tmpfs mounts, running as nobody, strace fault
// injection) with an explicit check of whether this machine allows them.
import { expect } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmdirSync, statSync } from "node:fs";
import { constants as osConstants, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, hasCommand, type RunResult } from "../helpers.ts";
import { tryLockFile } from "../../src/snapshot/lock.ts";

export const HOST = hostname();

/** Everything a failed run must not change: the storage outside backups/, the index, the list of archives. */
export interface StorageState {
  tree: Map<string, Buffer>;
  tindex: string | null;
  archives: string[];
}

/**
 * Every entry below `dir` but backups/: regular files by content, symbolic
 * links by target, other special files by kind (never opened: a FIFO would block).
 */
function treeOf(dir: string): Map<string, Buffer> {
  const tree = new Map<string, Buffer>();
  const visit = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const sub = rel ? `${rel}/${name}` : name;
      if (sub === "backups") continue;
      const path = join(dir, sub);
      const st = lstatSync(path);
      if (st.isDirectory()) visit(sub);
      else if (st.isFile()) tree.set(sub, readFileSync(path));
      else if (st.isSymbolicLink()) tree.set(sub, Buffer.from(`symlink -> ${readlinkSync(path)}`));
      else tree.set(sub, Buffer.from(`special file, mode ${st.mode.toString(8)}`));
    }
  };
  visit("");
  return tree;
}

export function storageState(home: string): StorageState {
  const tindexPath = join(home, "backups", "tindex");
  return {
    tree: treeOf(home),
    tindex: existsSync(tindexPath) && statSync(tindexPath).isFile() ? readFileSync(tindexPath, "utf8") : null,
    archives: finalArchives(home),
  };
}

/** Archives under their final names (not temporary files). */
export function finalArchives(home: string): string[] {
  return readdirSync(join(home, "backups")).filter((n) => n.endsWith(".tgz") && !n.startsWith(".")).sort();
}

export function tempFiles(home: string): string[] {
  return readdirSync(join(home, "backups")).filter((n) => n.startsWith(".tmp-")).sort();
}

/** The storage, the index and the archives are exactly as before. */
export function expectUnchanged(home: string, before: StorageState): void {
  const after = storageState(home);
  expect(after.archives).toEqual(before.archives);
  expect(after.tindex).toBe(before.tindex);
  expect([...after.tree.keys()].sort()).toEqual([...before.tree.keys()].sort());
  for (const [rel, data] of before.tree) expect(after.tree.get(rel)?.equals(data)).toBe(true);
}

/** The storage's sublock is free: the kernel dropped the lock of a dead or finished run. */
export function expectLockFree(home: string): void {
  const lock = tryLockFile(join(home, "misc", "sublock"));
  expect(lock).not.toBeNull();
  lock?.release();
}

/**
 * The error rule: exit status `code`, no stack trace, and the last line of
 * stderr is the one error line `dsbackup: ...` containing each of `needles`.
 */
export function expectError(r: { status: number | null; stderr: string }, code: number, ...needles: (string | RegExp)[]): string {
  expectOneErrorLine(r.stderr);
  const last = r.stderr.trimEnd().split("\n").at(-1)!;
  for (const needle of needles) {
    if (typeof needle === "string") expect(last).toContain(needle);
    else expect(last).toMatch(needle);
  }
  expect(r.status).toBe(code);
  return last;
}

export function expectOneErrorLine(stderr: string): void {
  const lines = stderr.trimEnd().split("\n");
  expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([]);
  expect(lines.at(-1)).toMatch(/^dsbackup: \S/);
  // Exactly one error line (warnings before it are allowed).
  expect(lines.filter((l) => l.startsWith("dsbackup: ") && !l.startsWith("dsbackup: warning: "))).toHaveLength(1);
}

export interface Background {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Start dist/dsbackup without waiting; stdout is a pipe nobody reads unless `stdout: "ignore"`. */
export function startDsbackup(args: string[], opts: { stdout?: "pipe" | "ignore"; command?: string[] } = {}): Background {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", TZ: "UTC" };
  const [cmd, ...pre] = opts.command ?? [BINARY];
  const child = spawn(cmd!, [...pre, ...args], { env, stdio: ["ignore", opts.stdout ?? "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
  return { child, stderr: () => stderr, done };
}

/** Poll `condition` every millisecond until it holds; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, condition: () => T | undefined | false, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(1);
  }
}

export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

// --- privileged helpers -------------------------------------------------------

const isRoot = process.getuid?.() === 0;

/** Whether tmpfs can be mounted here (root, and mount permitted in this container). */
export const canMountTmpfs: boolean = (() => {
  if (!isRoot || process.platform !== "linux") return false;
  const probe = join(tmpdir(), `dsbackup-mount-probe-${process.pid}`);
  mkdirSync(probe, { recursive: true });
  const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]).status === 0;
  if (ok) spawnSync("umount", [probe]);
  rmdirSync(probe);
  return ok;
})();

/** Mount a tmpfs of `size` (e.g. "1m") on `dir`; returns the unmount function. */
export function mountTmpfs(dir: string, size: string): () => void {
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mount tmpfs on ${dir} failed: ${r.stderr}`);
  return () => {
    spawnSync("umount", [dir]);
  };
}

/** How to run a command as the unprivileged user nobody, if this machine can. */
export const asNobody: string[] | undefined = (() => {
  if (!isRoot) return undefined;
  if (hasCommand("setpriv", "--version")) return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];
  return undefined;
})();

/** strace can inject faults (errors and signals) into chosen system calls. */
export const canStrace: boolean =
  hasCommand("strace", "-V") && spawnSync("strace", ["-f", "-qq", "-o", "/dev/null", "true"]).status === 0;

/** Run dist/dsbackup under strace with these filter/injection arguments. */
export function straceArgs(straceOptions: string[]): string[] {
  return ["strace", "-f", "-qq", "-o", "/dev/null", ...straceOptions, BINARY];
}

export function runCommand(command: string[], args: string[]): RunResult {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", TZ: "UTC" };
  const r = spawnSync(command[0]!, [...command.slice(1), ...args], { env, encoding: "utf8", maxBuffer: 1 << 28 });
  return { status: r.status ?? (r.signal ? 128 + osConstants.signals[r.signal] : -1), stdout: r.stdout, stderr: r.stderr };
}
