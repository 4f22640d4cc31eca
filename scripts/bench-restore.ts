// Benchmark: restoring a full backup with dsbackup against extracting the
// same archive with GNU tar and bsdtar (which check nothing and do not sync).
//
//   bun scripts/bench-restore.ts [--files 90000] [--reps 3] [--binary dist/dsbackup]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createStorage } from "../test/fixtures/generator.ts";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "90000" },
    reps: { type: "string", default: "3" },
    binary: { type: "string", default: "dist/dsbackup" },
  },
});
const binary = resolve(values.binary!);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const work = mkdtempSync(join(tmpdir(), "dsbackup-bench-restore-"));
try {
  const home = join(work, "storage");
  createStorage(home, { format: "bushy", transactions: Math.round(Number(values.files) / 21), objectsPerTransaction: 10, pickleBytes: [400, 3200] });
  const full = spawnSync(binary, ["--storage", home, "-q", "full"], { encoding: "utf8" });
  if (full.status !== 0) throw new Error(full.stderr);
  const archive = join(home, "backups", "backup-1.tgz");
  const has = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
  const contenders: [string, (dest: string) => string[]][] = [
    ["dsbackup restore", (dest) => [binary, "restore", "--backups", join(home, "backups"), "--to", dest]],
    ["dsbackup restore --verify", (dest) => [binary, "restore", "--verify", "--backups", join(home, "backups"), "--to", dest]],
  ];
  if (has("tar")) contenders.push(["tar xzf (GNU)", (dest) => ["sh", "-c", `mkdir "$1" && tar xzf "$0" -C "$1"`, archive, dest]]);
  if (has("bsdtar")) contenders.push(["bsdtar xzf", (dest) => ["sh", "-c", `mkdir "$1" && bsdtar xzf "$0" -C "$1"`, archive, dest]]);
  const times = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (let r = 0; r < Number(values.reps); r++) {
    for (const [name, argv] of contenders) {
      const dest = join(work, `out-${r}-${times.get(name)!.length}-${name.replace(/\W+/g, "_")}`);
      spawnSync("sync");
      const start = performance.now();
      const run = spawnSync(argv(dest)[0]!, argv(dest).slice(1), { encoding: "utf8" });
      const seconds = (performance.now() - start) / 1000;
      if (run.status !== 0) throw new Error(`${name} failed: ${run.stderr}`);
      times.get(name)!.push(seconds);
      rmSync(dest, { recursive: true, force: true });
    }
  }
  console.log(`restore of a full backup of ${values.files} files, median of ${values.reps} runs`);
  const base = median(times.get("dsbackup restore")!);
  for (const [name, xs] of times) console.log(`${name.padEnd(28)} ${median(xs).toFixed(2).padStart(6)} s   x${(median(xs) / base).toFixed(2)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
