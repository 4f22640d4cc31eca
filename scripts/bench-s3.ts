// Benchmark: a full backup straight to an S3 bucket (the local Ceph RGW of
// test/s3/rgw.sh) against the same to a local folder; restore from each; peak
// RSS of every run; upload throughput against `s3cmd put` of the same archive.
// `npm run bench:s3` builds dist/dsbackup first.
//
//   bun scripts/bench-s3.ts [--files 90000] [--reps 3] [--binary dist/dsbackup]
//
// The storage is the one `npm run bench` makes (scripts/bench.ts: bushy,
// ~21 files per transaction of 10 objects, pickles of 400-3200 bytes).
// Medians of --reps rounds; peak RSS from GNU time's %M.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createStorage } from "../test/fixtures/generator.ts";
import { newBucket, rgw, stopRgwIfStarted } from "../test/s3/rgw.ts";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "90000" },
    reps: { type: "string", default: "3" },
    binary: { type: "string", default: "dist/dsbackup" },
  },
});
const files = Number(values.files);
const reps = Number(values.reps);
const binary = resolve(values.binary!);
if (!existsSync(binary)) {
  console.error(`bench:s3: ${binary} not found; run \`bun scripts/build.ts\` first (npm run bench:s3 does)`);
  process.exit(1);
}
const gateway = rgw();
if (!gateway) {
  console.error("bench:s3: Ceph RGW cannot start here (test/s3/rgw.sh start); apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw");
  process.exit(1);
}
const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
if (!gnuTime) console.log("note: /usr/bin/time not found; no peak RSS");

const work = mkdtempSync(join(tmpdir(), "dsbackup-bench-s3-"));
const home = join(work, "storage");
const cleanup = () => rmSync(work, { recursive: true, force: true });
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});
const t0 = performance.now();
createStorage(home, { format: "bushy", transactions: Math.max(1, Math.round(files / 21)), objectsPerTransaction: 10, pickleBytes: [400, 3200], seed: 1 });
console.log(`generated ${home} in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${availableParallelism()} cores; ${reps} rounds`);
Bun.spawnSync(["sh", "-c", "tar cf - . > /dev/null"], { cwd: home }); // warm the page cache

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", TZ: "UTC", ...gateway.env };
const rssFile = join(work, "rss");

async function timed(cmd: string[]): Promise<{ wall: number; rss: number }> {
  const start = performance.now();
  const p = Bun.spawn(gnuTime ? [gnuTime, "-f", "%M", "-o", rssFile, ...cmd] : cmd, { env, stdout: "ignore", stderr: "pipe" });
  const code = await p.exited;
  const wall = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${await new Response(p.stderr).text()}`);
  const rss = gnuTime ? Number((await Bun.file(rssFile).text()).trim().split("\n").at(-1)) * 1024 : 0;
  return { wall, rss };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const MiB = 2 ** 20;
const samples = new Map<string, { wall: number; rss: number }[]>();
const add = (label: string, s: { wall: number; rss: number }) => {
  if (!samples.has(label)) samples.set(label, []);
  samples.get(label)!.push(s);
  console.log(`  ${label.padEnd(34)} ${s.wall.toFixed(2)} s  ${(s.rss / MiB).toFixed(0)} MiB`);
};

// s3cmd's configuration for the local gateway (path style, no TLS), from the same env.
const s3cfg = join(work, "s3cfg");
await Bun.write(
  s3cfg,
  [
    "[default]",
    `access_key = ${gateway.env.AWS_ACCESS_KEY_ID}`,
    `secret_key = ${gateway.env.AWS_SECRET_ACCESS_KEY}`,
    `host_base = ${new URL(gateway.endpoint).host}`,
    `host_bucket = ${new URL(gateway.endpoint).host}`,
    "use_https = False",
    "signature_v2 = False",
    "multipart_chunk_size_mb = 16",
    "",
  ].join("\n"),
);
const s3cmd = Bun.which("s3cmd");
if (!s3cmd) console.log("SKIP s3cmd put: s3cmd not found (apt-get install -y s3cmd)");

let archiveBytes = 0;
try {
  for (let r = 0; r < reps; r++) {
    console.log(`round ${r + 1}`);
    const folder = join(work, `backups-${r}`);
    mkdirSync(folder);
    const bucket = await newBucket(gateway, "bench");
    const loc = `s3://${bucket}/bench`;
    add("full backup to a folder", await timed([binary, "--storage", home, "--backups", folder, "-q", "full"]));
    add("full backup to the bucket", await timed([binary, "--storage", home, "--backups", loc, "-q", "full"]));
    const archive = join(folder, "backup-1.tgz");
    archiveBytes = statSync(archive).size;
    const fromFolder = join(work, `restored-folder-${r}`);
    const fromBucket = join(work, `restored-bucket-${r}`);
    add("restore from the folder", await timed([binary, "restore", "--backups", folder, "--to", fromFolder, "-q"]));
    add("restore from the bucket", await timed([binary, "restore", "--backups", loc, "--to", fromBucket, "-q"]));
    if (s3cmd) add("s3cmd put of the same archive", await timed([s3cmd, "-c", s3cfg, "-q", "put", archive, `s3://${bucket}/s3cmd/backup-1.tgz`]));
    rmSync(fromFolder, { recursive: true, force: true });
    rmSync(fromBucket, { recursive: true, force: true });
    rmSync(folder, { recursive: true, force: true });
  }
  const m = (label: string) => median(samples.get(label)?.map((s) => s.wall) ?? [NaN]);
  const peak = (label: string) => Math.max(...(samples.get(label)?.map((s) => s.rss) ?? [0])) / MiB;
  console.log(`\narchive: ${(archiveBytes / MiB).toFixed(1)} MiB\n`);
  console.log(`${"".padEnd(34)} ${"median s".padStart(9)} ${"peak RSS MiB".padStart(13)} ${"MiB/s of archive".padStart(17)}`);
  for (const label of samples.keys()) {
    console.log(`${label.padEnd(34)} ${m(label).toFixed(2).padStart(9)} ${peak(label).toFixed(1).padStart(13)} ${(archiveBytes / MiB / m(label)).toFixed(1).padStart(17)}`);
  }
  console.log(`\nbucket / folder: backup ${(m("full backup to the bucket") / m("full backup to a folder")).toFixed(2)}x (target <= 1.3), restore ${(m("restore from the bucket") / m("restore from the folder")).toFixed(2)}x`);
} finally {
  cleanup();
  stopRgwIfStarted(); // only one this script started
}
