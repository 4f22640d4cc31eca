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
import { readCatalog } from "../../src/restore/catalog.ts";
import { openLocation } from "../../src/location/open.ts";
import { chainTo } from "../../src/restore/plan.ts";
import { formatTime } from "../../src/time/format.ts";
import { calendarHistory, DAY, dsbackupAt, hasFaketime } from "../fixtures/calendar.ts";
import { appendTransactions, readTree } from "../fixtures/generator.ts";
import { BINARY, copyBackups, runCommand, tempDir } from "../helpers.ts";
import { oracle } from "../retention/oracle.ts";

const DAYS = 60;
const TZ = "Europe/Berlin";
const START = Date.parse("2026-01-04T01:30:00Z") / 1000; // Sunday 02:30 in Berlin

if (!hasFaketime) console.warn("SKIP: faketime not installed (Debian faketime); the calendar history is not built by the binary");
const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
if (!hasPromtool) console.warn("SKIP: promtool not installed (Debian prometheus); status metrics not checked by it");

const archivesIn = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".tgz")).sort();
const at = (epoch: number, args: string[]) => dsbackupAt(epoch, args, TZ);

describe.skipIf(!hasFaketime)("sixty days of weekly fulls and daily incrementals", () => {
  let home: string;
  let trees: Map<number, Map<string, Buffer>>;
  let times: Map<number, number>;

  beforeAll(() => {
    const h = calendarHistory("retention", TZ, START, DAYS, (day) => (day % 7 === 0 ? ["full"] : ["--or-full", "inc", "36 hours ago"]));
    ({ home, trees, times } = h);
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

  test("prune --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --keep-yearly 3: exactly the oracle's points and reasons, the table, each kept point restores byte-identical, nothing else remains", async () => {
    const dir = copyBackups(join(home, "backups"), "retention-prune");
    const catalog = await readCatalog(openLocation(dir));
    const chainOf = (seq: number) => (chainTo(catalog.archives, seq, "backup") as { name: string }[]).map((a) => a.name);
    const now = START + DAYS * DAY;
    const policy = { daily: 7, weekly: 5, monthly: 12, yearly: 3 };
    const flags = ["--keep-daily", "7", "--keep-weekly", "5", "--keep-monthly", "12", "--keep-yearly", "3"];
    const expected = oracle(catalog.entries.map((e) => ({ seq: e.seq, timestamp: e.timestamp })), policy, TZ, now);
    // Sundays 2026-02-22 and -03-01 (weekly), the last 7 days, Jan 31 and Feb 28 (monthly), and the oldest point.
    expect(expected.size).toBeGreaterThanOrEqual(12);

    const dry = at(now, ["prune", "--backups", dir, ...flags, "--dry-run", "--json"]);
    expect(dry.stderr).toBe("");
    expect(dry.status).toBe(0);
    const doc = JSON.parse(dry.stdout);
    expect(doc.policy).toBe("keep 7 daily, 5 weekly, 12 monthly, 3 yearly snapshots");
    expect(doc.points.map((p: { seq: number }) => p.seq)).toEqual(catalog.entries.map((e) => e.seq).reverse());
    for (const p of doc.points) {
      expect({ seq: p.seq, keep: p.keep, reasons: p.reasons }).toEqual({ seq: p.seq, keep: expected.has(p.seq), reasons: expected.get(p.seq) ?? [] });
      expect(p.chain).toEqual(chainOf(p.seq));
      expect(p.timestamp).toBe(times.get(p.seq)!);
    }
    const keep = [...expected.keys()].sort((a, b) => a - b);
    const needed = [...new Set(keep.flatMap(chainOf))].sort();
    expect(doc.remove.map((a: { name: string }) => a.name).sort()).toEqual(catalog.archives.map((a) => a.name).filter((n) => !needed.includes(n)).sort());

    // The table: restic's forget --dry-run, times in TZ, then each deletion once.
    const table = at(now, ["prune", "--backups", dir, ...flags, "--dry-run"]);
    expect(table.status).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toBe(`Applying policy: ${doc.policy}`);
    expect(lines[1]).toBe(`keep ${keep.length} restore points:`);
    expect(lines[2]).toMatch(/^seq +time +archives +reasons$/);
    expect(lines).toContain(`remove ${DAYS - keep.length} restore points:`);
    for (const p of doc.points) {
      const shown = formatTime(new Date(p.timestamp * 1000), "%Y-%m-%d %H:%M:%S %Z", { zone: TZ });
      const reasons = p.keep ? ` +${p.reasons.join(", ")}` : p.stillRestorable ? " +still restorable \\(kept points need its whole chain\\)" : "";
      const row = new RegExp(`^${p.seq} +${shown} +${p.chain.join(" ").replace(/\./g, "\\.")}${reasons}$`);
      expect(lines.filter((l) => row.test(l))).toHaveLength(1);
    }
    expect(lines.filter((l) => l.startsWith("would delete ")).map((l) => l.split(" ")[2])).toEqual(doc.remove.map((a: { name: string }) => a.name));

    const r = at(now, ["prune", "--backups", dir, ...flags]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Deleted ${doc.remove.length} archives`);
    expect(archivesIn(dir)).toEqual(needed);
    expect(needed.length).toBeLessThan(DAYS / 2);
    const after = await readCatalog(openLocation(dir));
    expect(after.unindexed).toEqual([]);
    expect(after.missing).toEqual([]);
    for (const seq of keep) {
      const target = join(tempDir("retention-restore"), "r");
      const restored = runCommand([BINARY], ["restore", "--backups", dir, "--seq", String(seq), "--to", target, "-q"], { env: { TZ } });
      expect(restored.stderr).toBe("");
      expect(restored.status).toBe(0);
      const tree = readTree(join(target, "A"));
      const want = trees.get(seq)!;
      expect([...tree.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [rel, data] of want) expect(tree.get(rel)!.equals(data)).toBe(true);
    }
  }, 60_000);
});
