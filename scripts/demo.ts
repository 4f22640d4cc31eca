// The quick-start demo: make an example storage under demo/ with the fixture
// generator, take a full backup with dist/dsbackup, commit more transactions,
// take an incremental backup, and show what was written.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { appendTransactions, createStorage } from "../test/fixtures/generator.ts";

const root = resolve(import.meta.dir, "..");
const home = join(root, "demo", "storage");
const binary = join(root, "dist", "dsbackup");

function run(args: string[]): void {
  console.log(`\n$ dsbackup ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}`);
  const r = spawnSync(binary, args, { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`demo: dsbackup exited with ${r.status}`);
    process.exit(1);
  }
}

rmSync(join(root, "demo"), { recursive: true, force: true });
const created = createStorage(home, { format: "bushy", transactions: 200, objectsPerTransaction: 5, start: new Date(Date.now() - 2 * 86400e3), stepSeconds: 300 });
console.log(`Example storage: ${home} (bushy format, 200 transactions, newest ${created.newestTid})`);
run(["--storage", home, "prefix", "demo", "full"]);
const appended = appendTransactions(home, { count: 20, objectsPerTransaction: 4, start: new Date(Date.now() - 60_000), stepSeconds: 2, seed: 42 });
console.log(`\nCommitted 20 more transactions (newest ${appended.newestTid})`);
run(["--storage", home, "prefix", "demo", "inc", "now"]);
console.log(`\nContents of ${join(home, "backups")}:`);
for (const name of readdirSync(join(home, "backups")).sort()) {
  console.log(`  ${name.padEnd(24)} ${String(statSync(join(home, "backups", name)).size).padStart(9)} bytes`);
}
console.log(`\nbackups/tindex:\n${readFileSync(join(home, "backups", "tindex"), "utf8")}`);
