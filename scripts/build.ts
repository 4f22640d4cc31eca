// Compile src/cli.ts (and the worker entry points it loads) into one
// executable with `bun build --compile`. Usage: bun scripts/build.ts
// [--target bun-linux-arm64] [--outfile dist/NAME] [--minify]
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The repository root: builds run there whatever the caller's working folder. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Files bundled as extra entry points so the executable carries them (workers). */
export const EXTRA_ENTRY_POINTS: string[] = ["src/archive/gzip-worker.ts"];

/** The commit being built, with "-dirty" when tracked files differ from it. */
export function gitCommit(): string {
  const r = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) return "unknown";
  const status = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" });
  return r.stdout.trim() + (status.status === 0 && status.stdout.trim() !== "" ? "-dirty" : "");
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
}

export interface CompileOptions {
  /** `bun build --target`, e.g. bun-linux-arm64; this machine's when absent. */
  target?: string;
  outfile: string;
  minify?: boolean;
  /** Defaults to gitCommit(); passed in so that several builds embed the same one. */
  commit?: string;
  /** Where bun's own output goes (default: this process's stdout/stderr). */
  stdio?: "inherit" | "pipe";
}

/** Compile the CLI into opts.outfile. Throws with bun's output when the build fails. */
export function compile(opts: CompileOptions): void {
  const outfile = resolve(opts.outfile);
  mkdirSync(dirname(outfile), { recursive: true });
  const args = [
    "build",
    "--compile",
    "src/cli.ts",
    ...EXTRA_ENTRY_POINTS,
    "--outfile",
    outfile,
    "--define",
    `__DSBACKUP_VERSION__=${JSON.stringify(packageVersion())}`,
    "--define",
    `__DSBACKUP_COMMIT__=${JSON.stringify(opts.commit ?? gitCommit())}`,
  ];
  if (opts.target) args.push(`--target=${opts.target}`);
  if (opts.minify) args.push("--minify");
  const stdio = opts.stdio ?? "inherit";
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ["ignore", stdio, stdio], encoding: "utf8" });
  if (r.status !== 0) {
    const output = stdio === "pipe" ? `: ${`${r.stdout}${r.stderr}`.trim().split("\n").slice(-5).join(" / ")}` : "";
    throw new Error(`bun build failed for ${opts.target ?? "this machine"} (exit ${r.status ?? r.signal})${output}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { target: { type: "string" }, outfile: { type: "string" }, minify: { type: "boolean" } },
  });
  try {
    compile({ target: values.target, outfile: values.outfile ?? "dist/dsbackup", minify: values.minify });
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
