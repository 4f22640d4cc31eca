// Shared test helpers: temporary folders, running the compiled binary, and
// independent archive readers (GNU tar, bsdtar, Python's tarfile).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll } from "bun:test";

export const BINARY = resolve(import.meta.dir, "../dist/dsbackup");

const made: string[] = [];
/** A fresh temporary folder, removed after the test file. */
export function tempDir(label = "t"): string {
  const dir = mkdtempSync(join(tmpdir(), `dsbackup-${label}-`));
  made.push(dir);
  return dir;
}
// Restore tests leave thousands of small files; on a busy disk removing them
// takes longer than bun's default 5 s hook timeout.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}, 60_000);

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run dist/dsbackup with a clean environment (no SNAPSHOT_* leaking in). */
export function dsbackup(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): RunResult {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build (npm test does)`);
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", TZ: "UTC", ...opts.env };
  const r = spawnSync(BINARY, args, { env, encoding: "utf8", input: opts.input, maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
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

/** Names in a folder, sorted, without dsbackup's ETA statistics file. */
export function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n !== ".dsbackup-stats.json").sort() : [];
}
