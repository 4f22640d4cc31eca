// Shared test helpers: temporary folders, running the compiled binary, and
// independent archive readers (GNU tar, bsdtar, Python's tarfile).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readTree } from "./fixtures/generator.ts";

export const BINARY = resolve(import.meta.dir, "../dist/dsbackup");

const made: string[] = [];
/** A fresh temporary folder, removed when the test run ends. */
export function tempDir(label = "t"): string {
  const dir = mkdtempSync(join(tmpdir(), `dsbackup-${label}-`));
  made.push(dir);
  return dir;
}
/** Remove every folder tempDir made; test/setup.ts calls it once after all test files. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The environment the binary runs with: nothing of ours (no SNAPSHOT_*) leaks in. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", TZ: "UTC", ...extra };
}

/** Run dist/dsbackup with a clean environment (no SNAPSHOT_* leaking in). */
export function dsbackup(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): RunResult {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build (npm test does)`);
  return runCommand([BINARY], args, opts);
}

/** dsbackup() keeping every stdout and stderr, to search them all for secrets at the end. */
export function recordingDsbackup(): { ds: (args: string[], env?: Record<string, string>) => RunResult; outputs: string[] } {
  const outputs: string[] = [];
  const ds = (args: string[], env: Record<string, string> = {}) => {
    const r = dsbackup(args, { env });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  return { ds, outputs };
}

/**
 * Run a dsbackup executable given as a command prefix (e.g. an emulator and
 * its options, then the binary) with the same clean environment as dsbackup().
 */
export function runCommand(command: string[], args: string[], opts: { env?: Record<string, string>; input?: string } = {}): RunResult {
  const env = cleanEnv(opts.env);
  const r = spawnSync(command[0]!, [...command.slice(1), ...args], { env, encoding: "utf8", input: opts.input, maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningBinary {
  child: ChildProcess;
  /** Standard output so far (for waiting on a line the command prints). */
  stdout: () => string;
  done: Promise<RunResult>;
}

/**
 * Start dist/dsbackup without blocking this process: needed when the test
 * itself serves something the binary talks to, or sends it signals.
 */
export function dsbackupAsync(args: string[], opts: { env?: Record<string, string>; detached?: boolean } = {}): RunningBinary {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build (npm test does)`);
  const env = cleanEnv(opts.env);
  // detached: its own process group, to send a signal to it and its children as a terminal does.
  const child = spawn(BINARY, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: opts.detached });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const done = new Promise<RunResult>((resolve) => {
    child.on("close", (code) => resolve({ status: code ?? -1, stdout: out, stderr: err }));
  });
  return { child, stdout: () => out, done };
}

/** What A/ and config/ of a storage should look like in a restore: every file but *-deleted. */
export function expectedTree(home: string): Map<string, Buffer> {
  const tree = new Map<string, Buffer>();
  for (const [rel, data] of readTree(join(home, "A"), (r) => r.endsWith("-deleted"))) tree.set(`A/${rel}`, data);
  for (const [rel, data] of readTree(join(home, "config"))) tree.set(`config/${rel}`, data);
  return tree;
}

/** A/ and config/ as extracted into dir. */
export function extractedTree(dir: string): Map<string, Buffer> {
  const tree = new Map<string, Buffer>();
  for (const top of ["A", "config"]) {
    if (!existsSync(join(dir, top))) continue;
    for (const [rel, data] of readTree(join(dir, top))) tree.set(`${top}/${rel}`, data);
  }
  return tree;
}

export function hasCommand(name: string, versionArg = "--version"): boolean {
  const r = spawnSync(name, [versionArg], { stdio: "ignore" });
  return r.status === 0;
}

export const tools = {
  gnuTar: spawnSync("tar", ["--version"], { encoding: "utf8" }).stdout?.includes("GNU tar") ?? false,
  bsdtar: hasCommand("bsdtar"),
  python: hasCommand("python3"),
};

export type Extractor = "gnu-tar" | "bsdtar" | "python";

/** Extract an archive with an independent tool into `dest`. */
export function extractWith(tool: Extractor, archive: string, dest: string): void {
  const r =
    tool === "gnu-tar"
      ? spawnSync("tar", ["-xzf", archive, "-C", dest], { encoding: "utf8" })
      : tool === "bsdtar"
        ? spawnSync("bsdtar", ["-xzf", archive, "-C", dest], { encoding: "utf8" })
        : spawnSync("python3", ["-c", "import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])", archive, dest], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${tool} failed on ${archive}: ${r.stderr}`);
}

/** Entry names (directories with a trailing /) as Python's tarfile lists them. */
export function listArchive(archive: string): string[] {
  const r = spawnSync(
    "python3",
    ["-c", "import sys,tarfile\nfor m in tarfile.open(sys.argv[1]): print(m.name + ('/' if m.isdir() else ''))", archive],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`tarfile could not list ${archive}: ${r.stderr}`);
  return r.stdout.split("\n").filter(Boolean);
}

/** A copy of a backups folder under a new temporary folder, to damage or prune without touching the fixture. */
export function copyBackups(backups: string, label: string): string {
  const dir = join(tempDir(label), "backups");
  cpSync(backups, dir, { recursive: true });
  return dir;
}

/** Names in a folder, sorted, without dsbackup's ETA statistics and index lock files. */
export function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n !== ".dsbackup-stats.json" && n !== ".tindex.lock").sort() : [];
}

/**
 * Have Python hold an exclusive flock on path, as a running storage holds
 * misc/sublock. Resolves once the lock is taken; release() ends the holder.
 */
export async function holdFlockWithPython(path: string): Promise<{ release(): Promise<void> }> {
  const holder = spawn("python3", ["-c", "import fcntl,sys,time\nf=open(sys.argv[1],'a')\nfcntl.flock(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\nprint('held',flush=True)\ntime.sleep(60)", path]);
  await new Promise<void>((ok, fail) => {
    holder.stdout.once("data", () => ok());
    holder.once("exit", (code) => fail(new Error(`python3 flock holder exited with ${code}`)));
  });
  // The kernel drops the lock only once the process is gone: wait for that.
  return { release: () => new Promise<void>((ok) => { holder.once("close", () => ok()); holder.kill(); }) };
}

/** Whether Python's non-blocking exclusive flock on path succeeds ("got") or is refused ("busy"). */
export function pythonTriesFlock(path: string): string {
  const py = spawnSync("python3", ["-c", "import fcntl,sys\nf=open(sys.argv[1],'a')\ntry:\n fcntl.flock(f,fcntl.LOCK_EX|fcntl.LOCK_NB); print('got')\nexcept BlockingIOError: print('busy')", path], { encoding: "utf8" });
  return py.stdout.trim();
}
