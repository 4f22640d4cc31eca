// contrib/: the systemd units pass systemd-analyze verify (with no warning)
// whether dsbackup is in /usr/local/bin (the single file) or /usr/bin (the
// Debian package), and the crontab runs the same commands as the service.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";

const CONTRIB = join(import.meta.dir, "../contrib");
const UNITS = ["dsbackup.service", "dsbackup.timer"];
const hasAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;
if (!hasAnalyze) console.warn("SKIP: systemd-analyze not installed (Debian systemd); contrib/ units not verified");

/**
 * A scratch root for `systemd-analyze verify --root`: contrib's units in
 * etc/systemd/system, this system's units (verify loads sysinit.target and
 * the others they depend on), /bin/sh, and an executable dsbackup at each of
 * `dsbackupAt` (verify resolves ExecStartPost's bare name in the root, as
 * systemd does on the server).
 */
function scratchRoot(dsbackupAt: string[]): string {
  const root = tempDir("units");
  cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
  mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
  for (const unit of UNITS) cpSync(join(CONTRIB, "systemd", unit), join(root, "etc/systemd/system", unit));
  for (const rel of ["bin/sh", ...dsbackupAt]) {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, rel), "#!/bin/sh\n");
    chmodSync(join(root, rel), 0o755);
  }
  return root;
}

function verify(root: string) {
  const r = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...UNITS.map((u) => `/etc/systemd/system/${u}`)], { encoding: "utf8", cwd: root });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("contrib", () => {
  test.skipIf(!hasAnalyze)("systemd-analyze verify accepts the units without a word with dsbackup in /usr/local/bin or /usr/bin, and refuses them without it", () => {
    expect(verify(scratchRoot(["usr/local/bin/dsbackup"]))).toEqual({ status: 0, out: "" });
    expect(verify(scratchRoot(["usr/bin/dsbackup"]))).toEqual({ status: 0, out: "" });
    const none = verify(scratchRoot([]));
    expect(none.status).not.toBe(0);
    expect(none.out).toContain("Command dsbackup is not executable");
  });

  test("the timer starts the service nightly and catches up; the service checks --max-age after the backup", () => {
    const timer = readFileSync(join(CONTRIB, "systemd/dsbackup.timer"), "utf8");
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* 02:30:00$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    const service = readFileSync(join(CONTRIB, "systemd/dsbackup.service"), "utf8");
    expect(service).toContain('then set -- full; else set -- --or-full inc "36 hours ago"; fi');
    expect(service).toMatch(/^ExecStartPost=dsbackup status .*--max-age 26h/m);
    // The shell of ExecStart= and cron find dsbackup through PATH: the single file's place first, then the package's.
    expect(service).toContain("; exec dsbackup --storage ");
    expect(service).toMatch(/^Environment=PATH=\/usr\/local\/bin:\/usr\/bin:\/bin$/m);
    const cron = readFileSync(join(CONTRIB, "cron/dsbackup.cron"), "utf8");
    expect(cron).toMatch(/^PATH=\/usr\/local\/bin:\/usr\/bin:\/bin$/m);
    expect(cron).toMatch(/^30 +2 +\* +\* +0 +zope dsbackup .* full && dsbackup status .*--max-age 26h/m);
    expect(cron).toMatch(/^30 +2 +\* +\* +1-6 +zope dsbackup .* --or-full inc "36 hours ago" && dsbackup status .*--max-age 26h/m);
  });
});
