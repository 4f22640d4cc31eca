// Benchmark: an incremental backup costs what changed, not what exists.
// Generates storages of increasing size (--sizes 100000,1000000 files), takes
// a full-backup index entry without archiving the whole storage (the index
// line is what inc reads), commits --transactions more transactions, and
// times `dsbackup inc` (median of --reps runs, each from the same state).
//
//   bun scripts/bench-inc.ts [--sizes 100000,1000000] [--transactions 100] [--reps 5]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { appendTransactions, createStorage } from "../test/fixtures/generator.ts";
import { formatIndexLine } from "../src/index/tindex.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100000,1000000" },
    transactions: { type: "string", default: "100" },
    reps: { type: "string", default: "5" },
    binary: { type: "string", default: "dist/dsbackup" },
  },
});
const binary = resolve(values.binary!);
const reps = Number(values.reps);
const changed = Number(values.transactions);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`dsbackup inc of ${changed} transactions, median of ${reps} runs`);
console.log("storage files | generate s | inc median s | inc files | archive bytes");
for (const size of values.sizes!.split(",").map(Number)) {
  const work = mkdtempSync(join(tmpdir(), "dsbackup-bench-inc-"));
  try {
    const home = join(work, "storage");
    const t0 = performance.now();
    // ~7 files per transaction of 3 objects (revisions, pointers, transaction file); small pickles.
    const base = createStorage(home, { format: "bushy", transactions: Math.round(size / 7), objectsPerTransaction: 3, pickleBytes: [40, 80] });
    const generated = (performance.now() - t0) / 1000;
    // The reference backup: an index line at the current newest transaction.
    writeFileSync(join(home, "backups", "tindex"), formatIndexLine(1, Math.floor(Date.now() / 1000) - 60, base.newestTid));
    appendTransactions(home, { count: changed, objectsPerTransaction: 3, start: new Date(), seed: 5 });
    const index = readFileSync(join(home, "backups", "tindex"));
    const times: number[] = [];
    let files = 0;
    let bytes = 0;
    for (let r = 0; r < reps; r++) {
      writeFileSync(join(home, "backups", "tindex"), index);
      for (const name of readdirSync(join(home, "backups"))) if (name.endsWith(".tgz")) unlinkSync(join(home, "backups", name));
      const start = performance.now();
      const run = spawnSync(binary, ["--storage", home, "-q", "inc", String(Math.floor(Date.now() / 1000))], { encoding: "utf8" });
      times.push((performance.now() - start) / 1000);
      if (run.status !== 0) throw new Error(`dsbackup inc failed: ${run.stderr}`);
      const list = spawnSync("python3", ["-c", "import sys,tarfile;print(len(tarfile.open(sys.argv[1]).getnames()))", join(home, "backups", "backup-1-to-2.tgz")], { encoding: "utf8" });
      files = Number(list.stdout.trim());
      bytes = readFileSync(join(home, "backups", "backup-1-to-2.tgz")).length;
    }
    console.log(`${String(size).padStart(13)} | ${generated.toFixed(1).padStart(10)} | ${median(times).toFixed(3).padStart(12)} | ${String(files).padStart(9)} | ${bytes}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
