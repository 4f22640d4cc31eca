// Compile src/cli.ts (and the worker entry points it loads) into one
// executable with `bun build --compile`. Usage: bun scripts/build.ts
// [--target bun-linux-arm64] [--outfile dist/NAME] [--minify]
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";

/** Files bundled as extra entry points so the executable carries them (workers). */
export const EXTRA_ENTRY_POINTS: string[] = ["src/archive/gzip-worker.ts"];

export function gitCommit(): string {
  const r = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
}

export function compile(opts: { target?: string; outfile: string; minify?: boolean }): void {
  mkdirSync("dist", { recursive: true });
  const args = [
    "build",
    "--compile",
    "src/cli.ts",
    ...EXTRA_ENTRY_POINTS,
    "--outfile",
    opts.outfile,
    "--define",
    `__DSBACKUP_VERSION__=${JSON.stringify(packageVersion())}`,
    "--define",
    `__DSBACKUP_COMMIT__=${JSON.stringify(gitCommit())}`,
  ];
  if (opts.target) args.push(`--target=${opts.target}`);
  if (opts.minify) args.push("--minify");
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    console.error(`build failed for ${opts.target ?? "this machine"} (exit ${r.status})`);
    process.exit(1);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { target: { type: "string" }, outfile: { type: "string" }, minify: { type: "boolean" } },
  });
  compile({ target: values.target, outfile: values.outfile ?? "dist/dsbackup", minify: values.minify });
}
