// contrib/: the systemd units pass systemd-analyze verify (with no warning),
// and the crontab runs the same commands as the service.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir } from "./helpers.ts";

const CONTRIB = join(import.meta.dir, "../contrib");
const hasAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;
if (!hasAnalyze) console.warn("SKIP: systemd-analyze not installed (Debian systemd); contrib/ units not verified");

/** The units with the executable at dist/dsbackup (verify checks that ExecStart exists), in a scratch folder. */
function staged(extra: Record<string, string> = {}): string {
  const dir = tempDir("units");
  for (const name of ["dsbackup.service", "dsbackup.timer"]) {
    writeFileSync(join(dir, name), readFileSync(join(CONTRIB, "systemd", name), "utf8").replaceAll("/usr/bin/dsbackup", BINARY));
  }
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

function verify(dir: string, units: string[]) {
  const r = spawnSync("systemd-analyze", ["verify", "--man=no", ...units.map((u) => join(dir, u))], { encoding: "utf8", cwd: dir });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("contrib", () => {
  test.skipIf(!hasAnalyze)("systemd-analyze verify accepts the service and timer without a word, and refuses a broken unit", () => {
    expect(verify(staged(), ["dsbackup.service", "dsbackup.timer"])).toEqual({ status: 0, out: "" });
    const broken = verify(staged({ "broken.service": "[Service]\nExecStart=/nonexistent/dsbackup full\n" }), ["broken.service"]);
    expect(broken.status).not.toBe(0);
  });

  test("the timer starts the service nightly and catches up; the service checks --max-age after the backup", () => {
    const timer = readFileSync(join(CONTRIB, "systemd/dsbackup.timer"), "utf8");
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* 02:30:00$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    const service = readFileSync(join(CONTRIB, "systemd/dsbackup.service"), "utf8");
    expect(service).toContain('then set -- full; else set -- --or-full inc "36 hours ago"; fi');
    expect(service).toMatch(/^ExecStartPost=\/usr\/bin\/dsbackup status .*--max-age 26h/m);
    const cron = readFileSync(join(CONTRIB, "cron/dsbackup.cron"), "utf8");
    expect(cron).toMatch(/^30 +2 +\* +\* +0 +zope dsbackup .* full && dsbackup status .*--max-age 26h/m);
    expect(cron).toMatch(/^30 +2 +\* +\* +1-6 +zope dsbackup .* --or-full inc "36 hours ago" && dsbackup status .*--max-age 26h/m);
  });
});
