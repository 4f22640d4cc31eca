// The quick-start demo: make an example storage under demo/ with the fixture
// generator, take a full backup with dist/dsbackup, commit more transactions,
// take an incremental backup, show what was written, then list, verify and
// restore it, and suggest what to try next.
//
//   bun scripts/demo.ts [--dir DIR]     (default: demo/ in the repository)
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { appendTransactions, createStorage, readTree } from "../test/fixtures/generator.ts";

const root = resolve(import.meta.dir, "..");
const { values } = parseArgs({ options: { dir: { type: "string" } } });
const dir = resolve(values.dir ?? join(root, "demo"));
const home = join(dir, "storage");
const restored = join(dir, "restored");
const binary = join(root, "dist", "dsbackup");

/** A path as the user would type it from the repository. */
const shown = (path: string) => (path.startsWith(`${root}/`) ? relative(root, path) : path);
const quote = (a: string) => (/[\s"]/.test(a) ? JSON.stringify(a) : a);

function run(args: string[]): void {
  console.log(`\n$ dsbackup ${args.map((a) => quote(shown(a))).join(" ")}`);
  const r = spawnSync(binary, args, { stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`demo: dsbackup exited with ${r.status}`);
    process.exit(1);
  }
}

rmSync(dir, { recursive: true, force: true });
const created = createStorage(home, { format: "bushy", transactions: 200, objectsPerTransaction: 5, start: new Date(Date.now() - 2 * 86400e3), stepSeconds: 300 });
console.log(`Example storage: ${shown(home)} (bushy format, 200 transactions, newest ${created.newestTid})`);
run(["--storage", home, "prefix", "demo", "full"]);
const appended = appendTransactions(home, { count: 20, objectsPerTransaction: 4, start: new Date(Date.now() - 60_000), stepSeconds: 2, seed: 42 });
console.log(`\nCommitted 20 more transactions (newest ${appended.newestTid})`);
run(["--storage", home, "prefix", "demo", "inc", "now"]);
console.log(`\nContents of ${shown(join(home, "backups"))}:`);
for (const name of readdirSync(join(home, "backups")).sort()) {
  console.log(`  ${name.padEnd(24)} ${String(statSync(join(home, "backups", name)).size).padStart(9)} bytes`);
}
console.log(`\nbackups/tindex:\n${readFileSync(join(home, "backups", "tindex"), "utf8")}`);

// What was made can be read back: the index, every record, and a restore.
run(["--storage", home, "list"]);
run(["--storage", home, "verify"]);
run(["restore", "--backups", join(home, "backups"), "--to", restored, "--verify"]);
const original = readTree(join(home, "A"), (rel) => rel.endsWith("-deleted"));
const copy = readTree(join(restored, "A"));
const same = original.size === copy.size && [...original].every(([rel, data]) => copy.get(rel)?.equals(data));
console.log(`\n${shown(restored)}/A: ${copy.size} files, ${same ? "the same as" : "DIFFERENT FROM"} ${shown(home)}/A`);
if (!same) process.exit(1);

const s = shown(home);
const next: [string, string][] = [
  [`dist/dsbackup --storage ${s} --json prefix demo full`, "a run's summary as one JSON document"],
  [`dist/dsbackup --storage ${s} list --json`, "the index and each point's restore plan, as JSON"],
  [`dist/dsbackup restore --backups ${s}/backups --to ${shown(join(dir, "restored-1"))} --seq 1`, "an older restore point"],
  [`dist/dsbackup --storage ${s} prune --keep-full 1 --dry-run`, "what a prune would delete"],
  [`dist/dsbackup date -d "36 hours ago"`, "how a WHEN for inc is read"],
  ["npx bun test/fixtures/generator.ts --help", "an example storage of your own size and format"],
];
console.log(`\nNext commands to try:\n${next.map(([command, what]) => `  # ${what}\n  ${command}`).join("\n")}`);
