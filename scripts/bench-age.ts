// Benchmark: our age encryption (src/crypto) against the age CLI on the same
// data, X25519 and passphrase, encrypt and decrypt.
//
//   bun scripts/bench-age.ts [--mib 300] [--reps 3] [--files 90000]
//
// With --files, also a full backup of a generated storage (as `npm run
// bench`) written to standard output, plain against piped through our
// encryption (in a second process: an upper bound on what the integrated
// backup, encrypting on its main thread, can reach) and through `age -e`.
//
// Each run is a child process (ours: this script with --child), timed
// wall-clock, with peak RSS from GNU time (or the child's rusage). Outputs
// are checked: every decrypt must give the input back.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createStorage } from "../test/fixtures/generator.ts";
import { decryptStream, encryptStream, loadDecryptionKeys, loadEncryptionKey } from "../src/crypto/index.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mib: { type: "string", default: "300" },
    reps: { type: "string", default: "3" },
    files: { type: "string", default: "0" },
    child: { type: "string" },
    identity: { type: "string" },
    recipient: { type: "string" },
    "passphrase-file": { type: "string" },
  },
});

// Child: encrypt or decrypt positionals[0] into positionals[1], streaming.
if (values.child) {
  const [input, output] = positionals as [string, string];
  const source = Bun.file(input).stream();
  const stream =
    values.child === "encrypt"
      ? encryptStream((await loadEncryptionKey({ recipients: values.recipient ? [values.recipient] : [], passphraseFile: values["passphrase-file"] }))!, source)
      : decryptStream(await loadDecryptionKeys({ identityFiles: values.identity ? [values.identity] : [], passphraseFile: values["passphrase-file"] }), source);
  const out = await open(output, "w");
  for await (const chunk of stream) await out.write(chunk);
  await out.close();
  process.exit(0);
}

const mib = Number(values.mib);
const reps = Number(values.reps);
for (const tool of ["age", "age-keygen", "script"]) {
  if (!Bun.which(tool)) {
    console.error(`bench-age: ${tool} not found (apt-get install age util-linux)`);
    process.exit(1);
  }
}
const work = mkdtempSync(join(tmpdir(), "dsbackup-bench-age-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
process.on("SIGINT", () => process.exit(130));

const plain = join(work, "plain");
spawnSync("sh", ["-c", `head -c ${mib}M /dev/urandom > ${plain}`]);
const key = join(work, "key.txt");
spawnSync("age-keygen", ["-o", key], { stdio: "ignore" });
const recipient = spawnSync("age-keygen", ["-y", key]).stdout.toString().trim();
const passphrase = "bench passphrase, four words";
const passFile = join(work, "pass.txt");
writeFileSync(passFile, `${passphrase}\n`);
const gnuTime = Bun.which("time", { PATH: "/usr/bin" });
const self = [process.execPath, import.meta.path];
const ours = (mode: string, keyArgs: string[], from: string, to: string) => [...self, "--child", mode, ...keyArgs, from, to];
const viaTty = (cmd: string, input: string) => ({ cmd: ["script", "-qec", cmd, "/dev/null"], input });

interface Case {
  label: string;
  cmd: string[];
  input?: string;
  check?: string; // output that must equal the plaintext
}
const f = (n: string) => join(work, n);
const cases: Case[] = [
  { label: "dsbackup encrypt X25519", cmd: ours("encrypt", ["--recipient", recipient], plain, f("ours-x.age")) },
  { label: "age -e -r", cmd: ["age", "-e", "-r", recipient, "-o", f("age-x.age"), plain] },
  { label: "dsbackup decrypt X25519", cmd: ours("decrypt", ["--identity", key], f("age-x.age"), f("ours-x.out")), check: f("ours-x.out") },
  { label: "age -d -i", cmd: ["age", "-d", "-i", key, "-o", f("age-x.out"), f("ours-x.age")], check: f("age-x.out") },
  { label: "dsbackup encrypt passphrase", cmd: ours("encrypt", ["--passphrase-file", passFile], plain, f("ours-p.age")) },
  { label: "age -p", ...viaTty(`age -p -o ${f("age-p.age")} ${plain}`, `${passphrase}\n${passphrase}\n`) },
  { label: "dsbackup decrypt passphrase", cmd: ours("decrypt", ["--passphrase-file", passFile], f("age-p.age"), f("ours-p.out")), check: f("ours-p.out") },
  { label: "age -d (passphrase)", ...viaTty(`age -d -o ${f("age-p.out")} ${f("ours-p.age")}`, `${passphrase}\n`), check: f("age-p.out") },
];

const files = Number(values.files);
if (files > 0) {
  const binary = join(import.meta.dir, "../dist/dsbackup");
  const home = f("storage");
  createStorage(home, { format: "bushy", transactions: Math.max(1, Math.round(files / 21)), objectsPerTransaction: 10, pickleBytes: [400, 3200], seed: 1 });
  const full = `${binary} --storage ${home} -q full --output -`;
  const encrypt = [...self, "--child", "encrypt", "--recipient", recipient, "/dev/stdin"].join(" ");
  spawnSync("sh", ["-c", `tar cf - -C ${home} . > /dev/null`]);
  cases.push(
    { label: "full backup > file", cmd: ["sh", "-c", `${full} > ${f("full.tgz")}`] },
    { label: "full backup | dsbackup encrypt", cmd: ["sh", "-c", `${full} | ${encrypt} ${f("full.tgz.age")}`] },
    { label: "full backup | age -e -r", cmd: ["sh", "-c", `${full} | age -e -r ${recipient} -o ${f("full-cli.tgz.age")}`] },
  );
}

interface Sample {
  wall: number;
  rss: number;
}
const samples = new Map<string, Sample[]>(cases.map((c) => [c.label, []]));
const rssFile = f("rss");
spawnSync("cat", [plain], { stdio: "ignore" }); // warm the page cache
console.log(`data: ${mib} MiB of random bytes; ${reps} rounds; peak RSS from ${gnuTime ? "GNU time" : "rusage"}\n`);
for (let r = 0; r < reps; r++) {
  for (const c of cases) {
    const cmd = gnuTime ? [gnuTime, "-f", "%M", "-o", rssFile, ...c.cmd] : c.cmd;
    const t0 = performance.now();
    const p = Bun.spawnSync(cmd, { stdin: c.input ? Buffer.from(c.input) : "ignore", stdout: "ignore", stderr: "pipe" });
    const wall = (performance.now() - t0) / 1000;
    if (p.exitCode !== 0) throw new Error(`${c.label} failed: ${p.stderr.toString()}`);
    if (c.check && spawnSync("cmp", ["-s", plain, c.check]).status !== 0) throw new Error(`${c.label}: output differs from the input`);
    const rss = gnuTime ? Number((await Bun.file(rssFile).text()).trim().split("\n").at(-1)) * 1024 : Number(p.resourceUsage.maxRSS);
    samples.get(c.label)!.push({ wall, rss });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${"".padEnd(30)} ${"median s".padStart(9)} ${"min s".padStart(7)} ${"MiB/s".padStart(7)} ${"peak RSS MiB".padStart(13)}`);
for (const c of cases) {
  const ss = samples.get(c.label)!;
  const m = median(ss.map((s) => s.wall));
  console.log(
    `${c.label.padEnd(30)} ${m.toFixed(2).padStart(9)} ${Math.min(...ss.map((s) => s.wall)).toFixed(2).padStart(7)} ${(c.label.startsWith("full backup") ? "-" : (mib / m).toFixed(0)).padStart(7)} ${(Math.max(...ss.map((s) => s.rss)) / 2 ** 20).toFixed(1).padStart(13)}`,
  );
}
if (files > 0) {
  const plainFull = median(samples.get("full backup > file")!.map((s) => s.wall));
  const enc = median(samples.get("full backup | dsbackup encrypt")!.map((s) => s.wall));
  console.log(`\nfull backup of ${files} files: ${statSync(f("full.tgz")).size} bytes compressed; encrypted run ${(enc / plainFull).toFixed(2)} x the plain one (median)`);
}
console.log(`\nsizes: ours X25519 ${statSync(f("ours-x.age")).size}, age ${statSync(f("age-x.age")).size} bytes (headers differ only in random values)`);
