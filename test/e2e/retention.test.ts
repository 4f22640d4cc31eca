// Sixty days of the manual's schedule made by the compiled binary under
// Debian's faketime (a full backup on Sundays, `inc "36 hours ago"` on the
// other days), then: status before and after a missed night, metrics checked
// by promtool, and a prune by the manual's policy whose kept points are the
// independent implementation's, each restoring byte-identical, with nothing
// else left.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { applyPolicy } from "../../src/retention/policy.ts";
import { restorablePoints, selectArchives, type ChainOf } from "../../src/retention/select.ts";
import { readCatalog } from "../../src/restore/catalog.ts";
import { openLocation } from "../../src/location/open.ts";
import { chainTo } from "../../src/restore/plan.ts";
import { applyPrune } from "../../src/restore/prune.ts";
import { formatTime } from "../../src/time/format.ts";
import { resolveZone } from "../../src/time/zone.ts";
import { appendTransactions, createStorage, readTree } from "../fixtures/generator.ts";
import { BINARY, runCommand, tempDir } from "../helpers.ts";
import { oracle } from "../retention/oracle.ts";

const DAYS = 60;
const TZ = "Europe/Berlin";
const START = Date.parse("2026-01-04T01:30:00Z") / 1000; // Sunday 02:30 in Berlin
const DAY = 86400;

const hasFaketime = spawnSync("faketime", ["2026-01-01 00:00:00", "true"]).status === 0;
if (!hasFaketime) console.warn("SKIP: faketime not installed (Debian faketime); the calendar history is not built by the binary");
const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
if (!hasPromtool) console.warn("SKIP: promtool not installed (Debian prometheus); status metrics not checked by it");

/** dist/dsbackup with its clock at `epoch` (libfaketime reads its @-form as local time in TZ, the binary's zone). */
function at(epoch: number, args: string[]) {
  const stamp = formatTime(new Date(epoch * 1000), "%Y-%m-%d %H:%M:%S", { zone: TZ });
  return runCommand(["faketime", "-f", `@${stamp}`, BINARY], args, { env: { TZ, FAKETIME_DONT_RESET: "1" } });
}

describe.skipIf(!hasFaketime)("sixty days of weekly fulls and daily incrementals", () => {
  let home: string;
  const trees = new Map<number, Map<string, Buffer>>();
  const times = new Map<number, number>();

  beforeAll(() => {
    home = join(tempDir("retention"), "storage");
    createStorage(home, { format: "chunky", transactions: 4, objectsPerTransaction: 2, seed: 5, start: new Date((START - DAY) * 1000) });
    for (let day = 0; day < DAYS; day++) {
      const t = START + day * DAY;
      appendTransactions(home, { count: 1 + (day % 2), objectsPerTransaction: 2, seed: 1000 + day, start: new Date((t - 3600) * 1000) });
      const words = day % 7 === 0 ? ["full"] : ["--or-full", "inc", "36 hours ago"];
      const r = at(t, ["--storage", home, "-q", ...words]);
      if (r.status !== 0) throw new Error(`day ${day}: ${r.stderr}`);
      trees.set(day + 1, readTree(join(home, "A"), (rel) => rel.endsWith("-deleted")));
      times.set(day + 1, t);
    }
  }, 120_000);

  test("the binary's clock followed faketime: index times are the chosen days, incrementals start two runs back", async () => {
    const cat = await readCatalog(openLocation(join(home, "backups")));
    expect(cat.entries.map((e) => e.timestamp)).toEqual([...times.values()]);
    const names = cat.archives.map((a) => a.name);
    expect(names).toContain("backup-1.tgz");
    expect(names).toContain("backup-8.tgz");
    expect(names).toContain("backup-1-to-3.tgz");
    expect(names).toContain("backup-8-to-10.tgz");
    expect(names.length).toBe(DAYS);
  });

  test("status: fresh after the night's backup, too old (exit 15) after a missed night; Nagios and metrics", () => {
    const last = START + (DAYS - 1) * DAY;
    const metrics = join(tempDir("retention-metrics"), "dsbackup.prom");
    const fresh = at(last + 3 * 3600, ["--storage", home, "status", "--max-age", "26h", "--json", "--metrics-file", metrics]);
    expect(fresh.status).toBe(0);
    const report = JSON.parse(fresh.stdout);
    expect(report.restorablePoints).toBe(DAYS);
    expect(report.newest.seq).toBe(DAYS);
    expect(report.newest.ageSeconds).toBeGreaterThanOrEqual(3 * 3600);
    expect(report.newest.ageSeconds).toBeLessThan(3 * 3600 + 60);
    expect(report.newest.chain[0]).toMatch(/^backup-\d+\.tgz$/);
    expect(report.oldest.seq).toBe(1);
    expect(report.storage.lagSeconds).toBe(0);
    expect(report.maxAge.tooOld).toBe(false);

    const missed = at(last + 27 * 3600, ["--storage", home, "status", "--max-age", "26h"]);
    expect(missed.status).toBe(15);
    expect(missed.stdout).toContain("Max age 26h: TOO OLD");
    expect(missed.stderr).toBe("dsbackup: warning: newest restorable point 60 is 1d 3h old, older than 26h\n");
    const nagios = at(last + 27 * 3600, ["--storage", home, "status", "--max-age", "26h", "--nagios", "--metrics-file", metrics]);
    expect(nagios.status).toBe(2);
    expect(nagios.stdout).toMatch(/^DSBACKUP CRITICAL - backup: newest point 60 is 1d 3h old, older than 26h \| age=97200s;;93600 points=60 chain_bytes=\d+B lag=0s\n$/);

    // A commit the backup lacks shows as lag.
    appendTransactions(home, { count: 1, seed: 9, start: new Date((last + 600) * 1000) });
    const lag = at(last + 3600, ["--storage", home, "status", "--json"]);
    expect(JSON.parse(lag.stdout).storage.lagSeconds).toBeGreaterThan(0);

    const text = readFileSync(metrics, "utf8");
    expect(text).toContain('dsbackup_restorable_points{command="status",prefix="backup"} 60\n');
    expect(text).toContain(`dsbackup_newest_point_timestamp_seconds{command="status",prefix="backup"} ${last}\n`);
    expect(text).toContain('dsbackup_last_run_exit_status{command="status",prefix="backup"} 2\n');
    // The successful run's time survives the failed one.
    expect(text).toContain(`dsbackup_last_success_timestamp_seconds{command="status",prefix="backup"} ${last + 3 * 3600}\n`);
    if (hasPromtool) {
      const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
      expect(`${check.stdout}${check.stderr}`).toBe("");
      expect(check.status).toBe(0);
    }
  });

  test("prune by 7 daily, 5 weekly, 12 monthly, 3 yearly: exactly the oracle's points stay, each restores byte-identical, nothing else remains", async () => {
    const dir = join(home, "backups");
    const catalog = await readCatalog(openLocation(dir));
    const chainOf: ChainOf = (prefix, seq) => chainTo(catalog.archives, seq, prefix);
    const points = restorablePoints(catalog.entries, catalog.archives, "backup", chainOf);
    const policy = { daily: 7, weekly: 5, monthly: 12, yearly: 3 };
    const now = START + DAYS * DAY;
    const decisions = applyPolicy(points.map((p) => ({ seq: p.entry.seq, timestamp: p.entry.timestamp, fullSeq: p.chain[0]!.seq })), policy, { zone: resolveZone(TZ), now });
    const keep = decisions.filter((d) => d.keep).map((d) => d.seq);
    const expected = [...oracle(points.map((p) => ({ seq: p.entry.seq, timestamp: p.entry.timestamp })), policy, TZ, now).keys()];
    expect(keep.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    // Sundays 2026-02-22 and -03-01 (weekly), the last 7 days, Jan 31 and Feb 28 (monthly), and the oldest point.
    expect(keep.length).toBeGreaterThanOrEqual(12);

    const sel = selectArchives({ entries: catalog.entries, archives: catalog.archives, prefix: "backup", keep, chainOf });
    await applyPrune(catalog, sel, () => {}, () => {});
    const left = readdirSync(dir).filter((n) => n.endsWith(".tgz")).sort();
    const needed = new Set(keep.flatMap((seq) => (chainOf("backup", seq) as { name: string }[]).map((a) => a.name)));
    expect(left).toEqual([...needed].sort());
    expect(left.length).toBeLessThan(DAYS / 2);

    const after = await readCatalog(openLocation(dir));
    expect(after.unindexed).toEqual([]);
    expect(after.missing).toEqual([]);
    for (const seq of keep) {
      const target = join(tempDir("retention-restore"), "r");
      const r = runCommand([BINARY], ["restore", "--backups", dir, "--seq", String(seq), "--to", target, "-q"], { env: { TZ } });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const restored = readTree(join(target, "A"));
      const want = trees.get(seq)!;
      expect([...restored.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [rel, data] of want) expect(restored.get(rel)!.equals(data)).toBe(true);
    }
  }, 60_000);
});
