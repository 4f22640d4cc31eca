// Measure the release builds: file size of each, and start-up time (median
// wall-clock of several runs) of `dsbackup --version` and `dsbackup date` for
// the builds this machine can run (natively, or linux-arm64 under qemu).
// Prints a Markdown table for the README.
//
// Usage: bun scripts/measure-release.ts [--runs 11]
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RELEASE_TARGETS, type ReleaseTarget } from "../src/platform.ts";
import { buildRelease, DIST } from "./build-release.ts";

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median wall-clock milliseconds of running command; throws if a run fails. */
function timeRuns(command: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const start = performance.now();
    const r = spawnSync(command[0]!, command.slice(1), { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH, TZ: "UTC" } });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${command.join(" ")} exited ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(ms); // the first run warms the page cache
  }
  return median(times);
}

/** How to run a build on this machine, or null. */
function runner(t: ReleaseTarget): { prefix: string[]; how: string } | null {
  if (process.platform !== "linux") return null;
  if (t.os === "linux" && t.libc === "glibc" && t.arch === process.arch) return { prefix: [], how: "native" };
  if (t.os === "linux" && t.libc === "glibc" && t.arch === "arm64" && spawnSync("qemu-aarch64-static", ["--version"]).status === 0 && existsSync("/usr/aarch64-linux-gnu")) {
    return { prefix: ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"], how: "qemu-user emulation" };
  }
  return null;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "11" } } });
  const runs = Number(values.runs);
  buildRelease({ log: (m) => console.error(m) });
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(`Measured on ${process.platform}-${process.arch}, ${cpus().length} cores (${cpu}), load average ${loadavg()[0]!.toFixed(1)}; median of ${runs} runs after one warm-up.\n`);
  console.log("| build | size | `--version` | `date` | run |");
  console.log("| --- | ---: | ---: | ---: | --- |");
  for (const t of RELEASE_TARGETS) {
    const path = join(DIST, t.file);
    const mib = `${(statSync(path).size / 2 ** 20).toFixed(1)} MiB`;
    const how = runner(t);
    if (!how) {
      console.log(`| ${t.file} | ${mib} | – | – | not runnable here |`);
      continue;
    }
    const version = timeRuns([...how.prefix, path, "--version"], runs);
    const date = timeRuns([...how.prefix, path, "date"], runs);
    console.log(`| ${t.file} | ${mib} | ${version.toFixed(0)} ms | ${date.toFixed(0)} ms | ${how.how} |`);
  }
}
