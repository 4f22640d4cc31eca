// Benchmark: dsbackup full backup against the usual shell pipelines on a
// generated DirectoryStorage. `npm run bench` builds dist/dsbackup first.
//
//   bun scripts/bench.ts [--files 90000] [--reps 5] [--storage DIR] [--binary dist/dsbackup]
//
// Generates a bushy storage of about --files files (~900 B average, ~80 MB
// for 90,000) with the fixture generator, warms the page cache, then runs
// the contenders in turn, --reps rounds, and prints medians, ratios to
// dsbackup, archive sizes and peak RSS (from the children's rusage).
// Encrypted full backups (age X25519, and --passphrase to add scrypt) run in
// the same rounds on the same storage, for their ratio to the plain one
// (issue 13's target: at most 1.25 x, peak RSS under 100 MiB for X25519).
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync, writeFileSync } from "node:fs";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import { tmpdir, availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createStorage } from "../test/fixtures/generator.ts";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "90000" },
    reps: { type: "string", default: "5" },
    storage: { type: "string" },
    binary: { type: "string", default: "dist/dsbackup" },
    passphrase: { type: "boolean", default: false },
  },
});
const files = Number(values.files);
const reps = Number(values.reps);
const binary = resolve(values.binary!);
if (!existsSync(binary)) {
  console.error(`bench: ${binary} not found; run \`bun scripts/build.ts\` first (npm run bench does)`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "dsbackup-bench-"));
let home = values.storage ? resolve(values.storage) : join(work, "storage");
const cleanup = () => rmSync(work, { recursive: true, force: true });
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

function countFiles(dir: string): { files: number; bytes: number } {
  let n = 0;
  let bytes = 0;
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (d.isFile()) {
      n++;
      bytes += statSync(join(d.parentPath, d.name)).size;
    }
  }
  return { files: n, bytes };
}

if (!values.storage) {
  const t0 = performance.now();
  // About 21 files per transaction of 10 objects (revisions, pointers, the
  // transaction file); pickles of 400-3200 bytes give ~900 B per file.
  createStorage(home, {
    format: "bushy",
    transactions: Math.max(1, Math.round(files / 21)),
    objectsPerTransaction: 10,
    pickleBytes: [400, 3200],
    seed: 1,
  });
  console.log(`generated ${home} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const tree = countFiles(home);
console.log(`storage: ${tree.files} files, ${(tree.bytes / 1e6).toFixed(1)} MB; ${availableParallelism()} cores; ${reps} rounds\n`);

const which = (t: string) => Bun.which(t);
const out = join(work, "out.tar.gz");

interface Contender {
  label: string;
  cmd: string[];
  /** Archive produced, for its size. */
  output: () => string;
  after?: () => void;
}

const backupsDir = join(home, "backups");
const dsArchive = () => {
  const names = readdirSync(backupsDir).filter((n) => n.endsWith(".tgz") || n.endsWith(".tar.gz") || n.endsWith(".tgz.age"));
  if (names.length !== 1) throw new Error(`expected one archive in ${backupsDir}, found ${names.join(", ") || "none"}`);
  return join(backupsDir, names[0]!);
};
const contenders: Contender[] = [
  {
    label: "dsbackup full",
    cmd: [binary, "--storage", home, "-q", "full"],
    output: dsArchive,
    after: () => rmSync(dsArchive()),
  },
];
// The same full backup encrypted: X25519 (the recipient of a throw-away identity), and optionally a passphrase.
const recipient = await identityToRecipient(await generateX25519Identity());
contenders.push({ label: "dsbackup full --recipient", cmd: [binary, "--storage", home, "-q", "--recipient", recipient, "full"], output: dsArchive, after: () => rmSync(dsArchive()) });
if (values.passphrase) {
  const passFile = join(work, "passphrase.txt");
  writeFileSync(passFile, "bench passphrase\n");
  contenders.push({ label: "dsbackup full --passphrase-file", cmd: [binary, "--storage", home, "-q", "--passphrase-file", passFile, "full"], output: dsArchive, after: () => rmSync(dsArchive()) });
}
const sh = (pipeline: string): string[] => ["sh", "-c", `${pipeline} > '${out}'`];
if (which("cpio")) contenders.push({ label: "find | cpio -o -H ustar | gzip", cmd: sh("find . | cpio -o -H ustar 2>/dev/null | gzip"), output: () => out });
else console.log("SKIP find | cpio | gzip: cpio not found");
if (which("pigz")) contenders.push({ label: "tar cf - . | pigz", cmd: sh("tar cf - . | pigz"), output: () => out });
else console.log("SKIP tar | pigz: pigz not found");
contenders.push({ label: "tar cf - . | gzip", cmd: sh("tar cf - . | gzip"), output: () => out });

interface Sample {
  wall: number;
  cpu: number;
  rss: number;
  size: number;
}
const samples = new Map<string, Sample[]>(contenders.map((c) => [c.label, []]));

// Peak RSS: GNU time's %M (max RSS of the command and the processes it
// waited for, in KiB). Without it, the spawned child's rusage, which after
// fork can count pages of this (Bun) process as well: an upper bound.
const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
const rssFile = join(work, "rss");
if (!gnuTime) console.log("note: /usr/bin/time not found; peak RSS is the child's rusage (an upper bound)");

async function runOnce(c: Contender): Promise<Sample> {
  const t0 = performance.now();
  const cmd = gnuTime ? [gnuTime, "-f", "%M", "-o", rssFile, ...c.cmd] : c.cmd;
  const p = Bun.spawn(cmd, { cwd: home, stdout: "ignore", stderr: "pipe" });
  const code = await p.exited;
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${c.label} exited ${code}: ${await new Response(p.stderr).text()}`);
  const ru = p.resourceUsage()!;
  const size = statSync(c.output()).size;
  c.after?.();
  return {
    wall,
    cpu: Number(ru.cpuTime.user + ru.cpuTime.system) / 1e6,
    rss: gnuTime ? Number((await Bun.file(rssFile).text()).trim().split("\n").at(-1)) * 1024 : Number(ru.maxRSS),
    size,
  };
}

// Warm the page cache (and check the pipelines work).
Bun.spawnSync(["sh", "-c", "tar cf - . > /dev/null"], { cwd: home });
try {
  for (let r = 0; r < reps; r++) {
    for (const c of contenders) {
      const s = await runOnce(c);
      samples.get(c.label)!.push(s);
      console.log(`round ${r + 1}  ${c.label.padEnd(32)} ${s.wall.toFixed(2)} s`);
    }
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const ds = median(samples.get("dsbackup full")!.map((s) => s.wall));
  console.log(`\n${"".padEnd(32)} ${"median s".padStart(9)} ${"min s".padStart(7)} ${"x dsbackup".padStart(11)} ${"cpu s".padStart(7)} ${"size MB".padStart(9)} ${"peak RSS MiB".padStart(13)}`);
  for (const c of contenders) {
    const ss = samples.get(c.label)!;
    const m = median(ss.map((s) => s.wall));
    console.log(
      `${c.label.padEnd(32)} ${m.toFixed(2).padStart(9)} ${Math.min(...ss.map((s) => s.wall)).toFixed(2).padStart(7)} ${(m / ds).toFixed(2).padStart(11)} ${median(ss.map((s) => s.cpu)).toFixed(2).padStart(7)} ${(ss.at(-1)!.size / 1e6).toFixed(2).padStart(9)} ${(Math.max(...ss.map((s) => s.rss)) / 2 ** 20).toFixed(1).padStart(13)}`,
    );
  }

  for (const label of ["dsbackup full --recipient", "dsbackup full --passphrase-file"]) {
    const ss = samples.get(label);
    if (!ss) continue;
    const ratios = ss.map((x, i) => x.wall / samples.get("dsbackup full")![i]!.wall);
    console.log(
      `\n${label}: ${(median(ss.map((x) => x.wall)) / ds).toFixed(2)} x the plain full backup (median of medians; per round ${ratios.map((r) => r.toFixed(2)).join(" ")}), ` +
        `peak RSS ${(Math.max(...ss.map((x) => x.rss)) / 2 ** 20).toFixed(1)} MiB`,
    );
  }

  // Size criterion: dsbackup's archive against gzip -6 of the same tar stream.
  const p = Bun.spawn(contenders[0]!.cmd, { cwd: home, stdout: "ignore", stderr: "pipe" });
  await p.exited;
  const archive = dsArchive();
  const g = Bun.spawnSync(["sh", "-c", `gzip -dc '${archive}' | gzip -6 | wc -c`]);
  const gz6 = Number(g.stdout.toString().trim());
  const mine = statSync(archive).size;
  rmSync(archive);
  console.log(
    `\nsize: dsbackup ${mine} bytes, gzip -6 of the same tar stream ${gz6} bytes (${(((mine - gz6) / gz6) * 100).toFixed(2)}%)`,
  );
  console.log("(the pipelines archive the whole storage directory; dsbackup a full backup's selection of it)");
} finally {
  cleanup();
}
