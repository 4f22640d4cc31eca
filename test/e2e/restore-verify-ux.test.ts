// restore, verify and list as an operator meets them (issue 11, items 5 and
// 6 and the restore/verify side of "confusing" and "missing"): a folder
// without tindex, the backups folder and storage home mixed up, --at
// refusals, the restored home's mode, progress on a terminal, labels.
import { beforeAll, describe, expect, test } from "bun:test";
import { cpSync, rmSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { evolve, type Evolved } from "../fixtures/evolve.ts";
import { BINARY, dsbackup, hasCommand, tempDir } from "../helpers.ts";

let s: Evolved;
let backups: string;
beforeAll(() => {
  s = evolve("flat", "ux");
  backups = join(s.home, "backups");
}, 60_000);

describe("verify of a folder without tindex", () => {
  test("verifies every archive it finds, checks incrementals against their reference archive, and exits 1 saying the index is missing", () => {
    const dir = join(tempDir("noindex"), "backups");
    cpSync(backups, dir, { recursive: true });
    rmSync(join(dir, "tindex"));
    const r = dsbackup(["verify", "--backups", dir, "--json"]);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.indexMissing).toBe(true);
    expect(report.archives.length).toBe(7);
    expect(report.archives.every((a: { ok: boolean }) => a.ok)).toBe(true);
    expect(r.stderr).toBe(`dsbackup: ${join(dir, "tindex")} is missing; verify found 1 problem (0 of 7 archives failed)\n`);
    const human = dsbackup(["verify", "--backups", dir]);
    expect(human.status).toBe(1);
    expect(human.stdout).toContain(`${join(dir, "tindex")}: the index is missing; \`dsbackup rebuild-index --backups ${dir}\` writes a new one`);
    expect(human.stdout).toContain("ok     s-1-to-3.tgz");
    expect(dsbackup(["list", "--backups", dir]).stdout).toContain("No index:");
  });
});

describe("backups folder and storage home mixed up", () => {
  for (const command of [["list"], ["restore", "--dry-run"], ["verify"], ["prune", "--keep-full", "1", "--dry-run"], ["rebuild-index"]]) {
    test(`${command[0]}: --storage HOME/backups and --backups HOME are usage errors giving the right spelling`, () => {
      const a = dsbackup([...command, "--storage", backups]);
      expect(a.status).toBe(2);
      expect(a.stderr).toBe(`dsbackup: ${backups} is a backups folder, not a storage home: use --backups ${backups} (or --storage ${s.home})\n`);
      const b = dsbackup([...command, "--backups", s.home]);
      expect(b.status).toBe(2);
      expect(b.stderr).toBe(`dsbackup: ${s.home} is a storage home, not a backups folder: use --storage ${s.home} (or --backups ${backups})\n`);
    });
  }
});

describe("restore", () => {
  test("--at before every backup names the instant (TZ and UTC) and the oldest and newest restorable times", () => {
    const at = String(s.times[1]! - 3600);
    const r = dsbackup(["restore", "--backups", backups, "--dry-run", "--at", at], { env: { TZ: "Europe/Berlin" } });
    expect(r.status).toBe(1);
    const utc = (t: number) => new Date(t * 1000).toISOString().replace("T", " ").replace(/\.000Z$/, " UTC");
    expect(r.stderr).toContain(`--at "${at}" is `);
    expect(r.stderr).toContain(`(${utc(Number(at))})`);
    expect(r.stderr).toMatch(/ CES?T \(/);
    expect(r.stderr).toContain(`oldest `);
    expect(r.stderr).toContain(`${utc(s.times[1]!)}) (sequence 1), newest `);
    expect(r.stderr).toContain(`${utc(s.times[6]!)}) (sequence 6)`);
    // The resolved WHEN (echoed before planning), then the one error line.
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toStartWith(`--at "${at}" resolved to `);
  });

  test("the restored home gets an ordinary folder's mode (0777 less the umask), not the temporary folder's 0750", () => {
    for (const umask of ["022", "002"]) {
      const target = join(tempDir("mode"), "r");
      const r = spawnSync("sh", ["-c", `umask ${umask} && exec "$0" "$@"`, BINARY, "restore", "--backups", backups, "--to", target, "-q"], { encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(statSync(target).mode & 0o777).toBe(0o777 & ~parseInt(umask, 8));
    }
  });

  test("--verify ends with a line saying what was verified; sizes are named as compressed or tar", () => {
    const target = join(tempDir("verified"), "r");
    const r = dsbackup(["restore", "--backups", backups, "--to", target, "--seq", "4", "--verify"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/Verified 3 archives of the plan: [\d,]+ entries \([\d.]+ (KiB|MiB) of tar\), [\d,]+ records decoded with their checksums, and the transaction chain from the full backup to [0-9A-F]{16} unbroken\n/);
    expect(r.stdout).toMatch(/ 1\. s-1\.tgz +full +[\d.]+ KiB compressed/);
  });
});

describe("progress on a terminal", () => {
  const script = hasCommand("script", "--version");
  test("restore and verify show files, bytes, rate and ETA on a terminal; nothing when stderr is not one, or with -q", () => {
    if (!script) {
      console.log("SKIP: script(1) (bsdutils) is not installed");
      return;
    }
    const onTerminal = (args: string[]) => {
      const cmd = [BINARY, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      // script gives the command a terminal; DSBACKUP_* is not needed: the throttle shows the first update at once.
      return spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } }).stdout;
    };
    const target = join(tempDir("tty"), "r");
    const restore = onTerminal(["restore", "--backups", backups, "--to", target, "--seq", "6"]);
    expect(restore).toMatch(/\r\x1b\[K[\d,]+ files? +[\d.]+ (B|KiB|MiB) of [\d.]+ (KiB|MiB) compressed +[\d.]+ (B|KiB|MiB) of tar +[\d.]+ (B|KiB|MiB)\/s/);
    const verify = onTerminal(["verify", "--backups", backups]);
    expect(verify).toContain("\r\x1b[K");
    expect(verify).toMatch(/compressed/);
    expect(onTerminal(["verify", "--backups", backups, "-q"])).not.toContain("\x1b[K");
    // not a terminal: no progress line
    const plain = dsbackup(["verify", "--backups", backups]);
    expect(plain.stderr).not.toContain("\x1b[K");
    expect(plain.stdout).not.toContain("\x1b[K");
  });
});

describe("labels", () => {
  test("one size format, counted nouns, prune names each archive once", () => {
    const list = dsbackup(["list", "--backups", backups]).stdout;
    expect(list).toMatch(/\(index .*, 6 entries\)/);
    expect(list).toMatch(/s-1\.tgz +full +[\d.]+ KiB compressed/);
    expect(list).not.toMatch(/\d [KM]\b/);
    const verify = dsbackup(["verify", "--backups", backups, "s-1-to-2.tgz"]).stdout;
    expect(verify).toMatch(/ok     s-1-to-2\.tgz \([\d,]+ entries, [\d.]+ KiB of tar, [\d.]+ KiB compressed, size and sha256 as recorded\)/);
    const one = join(tempDir("one-entry"), "backups");
    cpSync(backups, one, { recursive: true });
    const r = dsbackup(["list", "--backups", one, "--prefix", "s"]);
    expect(r.stdout).not.toContain("1 entries");
    const dir = join(tempDir("prune-once"), "backups");
    cpSync(backups, dir, { recursive: true });
    const prune = dsbackup(["prune", "--backups", dir, "--keep-full", "1"]);
    expect(prune.status).toBe(0);
    for (const name of ["s-1.tgz", "s-1-to-2.tgz", "s-1-to-3.tgz"]) {
      expect((prune.stdout + prune.stderr).split(name).length - 1).toBe(1);
    }
    expect(prune.stdout).toMatch(/^Deleted 5 archives \([\d.]+ KiB compressed\) and 3 index lines$/m);
  });
});
