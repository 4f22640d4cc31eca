// prune by restic's rules on the compiled binary, across prefixes (weekly
// fulls, daily incrementals a real day apart: a kept daily point keeps the
// weekly full it starts from), its usage errors, and --metrics-file on
// backup, verify, prune and status merged into one file that promtool
// accepts, with status reporting what verify recorded.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appendTransactions, readTree } from "../fixtures/generator.ts";
import { calendarHistory, DAY, hasFaketime, type CalendarHistory } from "../fixtures/calendar.ts";
import { evolve, type Evolved } from "../fixtures/evolve.ts";
import { copyBackups, dsbackup, tempDir } from "../helpers.ts";

if (!hasFaketime) console.warn("SKIP: faketime not installed (Debian faketime); no calendar history across prefixes");
const archivesIn = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".tgz")).sort();
const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
if (!hasPromtool) console.warn("SKIP: promtool not installed (Debian prometheus); the merged metrics file is not checked by it");

function restoresAs(dir: string, prefix: string, seq: number, tree: Map<string, Buffer>) {
  const target = join(tempDir("pp-restore"), "r");
  const r = dsbackup(["restore", "--backups", dir, "--prefix", prefix, "--seq", String(seq), "--to", target, "-q"]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(readTree(join(target, "A"))).toEqual(tree);
}

describe.skipIf(!hasFaketime)("calendar rules across prefixes: weekly fulls, daily incrementals from the day before", () => {
  let s: CalendarHistory;
  let backups: string;
  beforeAll(() => {
    // A day apart from Monday 2026-03-02 03:00 UTC: weekly full on runs 1, 8 and 15, daily inc from the run before on the others.
    const start = Date.parse("2026-03-02T03:00:00Z") / 1000;
    s = calendarHistory("pp-xp", "UTC", start, 15, (day, t) => (day % 7 === 0 ? ["prefix", "weekly", "full"] : ["prefix", "daily", "inc", String(t - DAY)]));
    backups = join(s.home, "backups");
  }, 60_000);

  test("prune --prefix daily --keep-daily 3: the three newest daily points stay with the weekly full they start from", () => {
    const dir = copyBackups(backups, "pp-xp-daily");
    const dry = dsbackup(["prune", "--backups", dir, "--prefix", "daily", "--keep-daily", "3", "--dry-run", "--json"]);
    expect(dry.stderr).toBe("");
    expect(dry.status).toBe(0);
    const doc = JSON.parse(dry.stdout);
    expect(Object.keys(doc)).toEqual(["backups", "prefix", "policy", "dryRun", "points", "remove", "removeBytes", "dropLines", "referenceLines"]);
    expect(doc).toMatchObject({ prefix: "daily", policy: "keep 3 daily snapshots", dryRun: true });
    expect(doc.points.map((p: { seq: number }) => p.seq)).toEqual([14, 13, 12, 11, 10, 9, 7, 6, 5, 4, 3, 2]);
    expect(doc.points.filter((p: { keep: boolean }) => p.keep).map((p: { seq: number }) => p.seq)).toEqual([14, 13, 12]);
    expect(doc.points[2]).toEqual({
      seq: 12,
      timestamp: s.times.get(12),
      time: new Date(s.times.get(12)! * 1000).toISOString().replace(".000Z", "Z"),
      keep: true,
      reasons: ["daily snapshot"],
      chain: ["weekly-8.tgz", "daily-8-to-9.tgz", "daily-9-to-10.tgz", "daily-10-to-11.tgz", "daily-11-to-12.tgz"],
      stillRestorable: false,
    });
    // Older points of the same chain are not kept, but stay restorable.
    expect(doc.points.filter((p: { stillRestorable: boolean }) => p.stillRestorable).map((p: { seq: number }) => p.seq)).toEqual([11, 10, 9]);
    const gone = ["daily-1-to-2.tgz", "daily-2-to-3.tgz", "daily-3-to-4.tgz", "daily-4-to-5.tgz", "daily-5-to-6.tgz", "daily-6-to-7.tgz"];
    expect(doc.remove.map((a: { name: string }) => a.name)).toEqual(gone);
    expect(doc.removeBytes).toBe(doc.remove.reduce((n: number, a: { size: number }) => n + a.size, 0));
    expect(doc.dropLines).toEqual([2, 3, 4, 5, 6, 7]);
    expect(archivesIn(dir)).toEqual(archivesIn(backups)); // a dry run

    const r = dsbackup(["prune", "--backups", dir, "--prefix", "daily", "--keep-daily", "3"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Applying policy: keep 3 daily snapshots\nkeep 3 restore points:\n");
    expect(r.stdout).toMatch(/^11 +\S+ \S+ UTC +weekly-8\.tgz daily-8-to-9\.tgz daily-9-to-10\.tgz daily-10-to-11\.tgz +still restorable \(kept points need its whole chain\)$/m);
    for (const name of gone) expect(r.stdout).toContain(`deleted ${name} (`);
    expect(r.stdout).toContain("Deleted 6 archives (");
    expect(archivesIn(dir)).toEqual(archivesIn(backups).filter((n) => !gone.includes(n)));
    for (const seq of [9, 10, 11, 12, 13, 14]) restoresAs(dir, "daily", seq, s.trees.get(seq)!);
    expect(dsbackup(["verify", "--backups", dir, "-q"]).status).toBe(0);

    // weekly: weekly-8 stays for the daily points, weekly-1 goes.
    const weekly = dsbackup(["prune", "--backups", dir, "--prefix", "weekly", "--keep-last", "1"]);
    expect(weekly.status).toBe(0);
    expect(weekly.stdout).toContain("keeping weekly-8.tgz: restore points 9, 10, 11, 12, 13, 14 of prefix daily still need it (prune --prefix daily first)");
    expect(weekly.stdout).toMatch(/^8 +\S+ \S+ UTC +weekly-8\.tgz +still restorable/m);
    expect(archivesIn(dir)).not.toContain("weekly-1.tgz");
    expect(archivesIn(dir)).toContain("weekly-8.tgz");
    restoresAs(dir, "weekly", 15, s.trees.get(15)!);
    for (const seq of [12, 14]) restoresAs(dir, "daily", seq, s.trees.get(seq)!);
  });

  test("combinable: --keep-full 1 --keep-weekly unlimited on daily keeps the newest full's points and each week's newest", () => {
    const dir = copyBackups(backups, "pp-xp-combined");
    const r = dsbackup(["prune", "--backups", dir, "--prefix", "daily", "--keep-full", "1", "--keep-weekly", "unlimited", "--dry-run", "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.policy).toBe("keep all weekly snapshots and every point of the 1 newest full backups");
    const reasons = Object.fromEntries(doc.points.filter((p: { keep: boolean }) => p.keep).map((p: { seq: number; reasons: string[] }) => [p.seq, p.reasons]));
    // Every daily point after weekly-8 is kept by --keep-full 1 (the newest full of the points is weekly-8).
    for (const seq of [9, 10, 11, 12, 13]) expect(reasons[seq]).toEqual(["full backup"]);
    expect(reasons[14]).toEqual(["weekly snapshot", "full backup"]);
    // The earlier weeks' newest daily points (and the oldest point, as restic keeps it).
    // An ISO week is named by its Thursday.
    const weekOf = (t: number) => {
      const d = new Date(t * 1000);
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 3 - ((d.getUTCDay() + 6) % 7))).toISOString().slice(0, 10);
    };
    const dailySeqs = [14, 13, 12, 11, 10, 9, 7, 6, 5, 4, 3, 2];
    const weekly = new Set<number>();
    const seen = new Set<string>();
    for (const seq of dailySeqs) if (!seen.has(weekOf(s.times.get(seq)!))) (seen.add(weekOf(s.times.get(seq)!)), weekly.add(seq));
    weekly.add(2);
    expect([...weekly]).toEqual([14, 7, 2]); // Sundays 15 and 8 March, and the oldest
    for (const seq of dailySeqs) expect(Boolean(reasons[seq]?.includes("weekly snapshot"))).toBe(weekly.has(seq));
  });

  test("a prune without a rule, with only zero counts, or with a bad count or duration is a usage error that deletes nothing", () => {
    const dir = copyBackups(backups, "pp-usage");
    const before = archivesIn(dir);
    for (const [args, mentions] of [
      [[], "prune needs a rule"],
      [["--keep-daily", "0", "--keep-last", "0"], "every count given is 0"],
      [["--keep-weekly", "-1"], "--keep-weekly"],
      [["--keep-monthly", "many"], '"unlimited"'],
      [["--keep-within", "7x"], "--keep-within"],
      [["--keep-within-daily", ""], "--keep-within-daily"],
    ] as const) {
      const r = dsbackup(["prune", "--backups", dir, "--prefix", "daily", ...args]);
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(mentions);
    }
    expect(archivesIn(dir)).toEqual(before);
  });
});

describe("--metrics-file on backup, verify, prune and status: one file, promtool accepts it", () => {
  let s: Evolved;
  beforeAll(() => {
    s = evolve("flat", "pp-metrics");
  }, 60_000);

  test("each command merges its samples; status shows what verify recorded; a write failure is a warning", () => {
    const metrics = join(tempDir("pp-prom"), "dsbackup.prom");
    const sample = (name: string, command: string) => {
      const m = new RegExp(`^${name}\\{command="${command}",prefix="s"\\} (\\S+)$`, "m").exec(readFileSync(metrics, "utf8"));
      return m ? Number(m[1]) : undefined;
    };
    appendTransactions(s.home, { count: 2, objectsPerTransaction: 3, seed: 77 });
    const t0 = Math.floor(Date.now() / 1000);
    const backup = dsbackup(["--storage", s.home, "--metrics-file", metrics, "-q", "prefix", "s", "inc", String(s.times[6]!)]);
    expect(backup.stderr).toBe("");
    expect(backup.status).toBe(0);
    const written = readdirSync(join(s.home, "backups")).find((n) => n.startsWith("s-6-to-"))!;
    expect(sample("dsbackup_archive_bytes", "backup")).toBe(readFileSync(join(s.home, "backups", written)).length);
    expect(sample("dsbackup_files", "backup")).toBeGreaterThan(0);
    expect(sample("dsbackup_last_run_exit_status", "backup")).toBe(0);
    expect(sample("dsbackup_last_success_timestamp_seconds", "backup")).toBeGreaterThanOrEqual(t0);
    expect(sample("dsbackup_last_run_duration_seconds", "backup")).toBeGreaterThan(0);

    const before = dsbackup(["--storage", s.home, "status", "--json"]);
    expect(JSON.parse(before.stdout).verify).toBeNull();
    expect(dsbackup(["--storage", s.home, "status"]).stdout).toContain("Verified: no record");
    const verify = dsbackup(["--storage", s.home, "verify", "-q", "--metrics-file", metrics]);
    expect(verify.status).toBe(0);
    expect(sample("dsbackup_last_verify_success", "verify")).toBe(1);
    expect(sample("dsbackup_files", "verify")).toBeGreaterThan(0);
    const after = JSON.parse(dsbackup(["--storage", s.home, "status", "--json", "--metrics-file", metrics]).stdout);
    expect(after.verify.ok).toBe(true);
    expect(after.verify.failed).toEqual([]);
    expect(sample("dsbackup_last_verify_success", "status")).toBe(1);

    const prune = dsbackup(["--storage", s.home, "prune", "--keep-last", "2", "--metrics-file", metrics, "-q"]);
    expect(prune.status).toBe(0);
    const left = JSON.parse(dsbackup(["--storage", s.home, "status", "--json"]).stdout);
    expect(sample("dsbackup_restorable_points", "prune")).toBe(left.restorablePoints);
    expect(left.restorablePoints).toBeLessThan(7);

    // A damaged archive of the newest chain: verify fails (exit 1), and both the metrics and status say so.
    const newest = join(s.home, "backups", left.newest.chain.at(-1));
    const bytes = readFileSync(newest);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(newest, bytes);
    expect(dsbackup(["--storage", s.home, "verify", "-q", "--metrics-file", metrics]).status).toBe(1);
    expect(sample("dsbackup_last_verify_success", "verify")).toBe(0);
    expect(sample("dsbackup_last_run_exit_status", "verify")).toBe(1);
    expect(sample("dsbackup_last_success_timestamp_seconds", "verify")).toBeGreaterThanOrEqual(t0); // the earlier success stays
    const failed = JSON.parse(dsbackup(["--storage", s.home, "status", "--json"]).stdout);
    expect(failed.verify.ok).toBe(false);
    expect(failed.verify.failed).toEqual([left.newest.chain.at(-1)]);
    const nagios = dsbackup(["--storage", s.home, "status", "--nagios", "--metrics-file", metrics]);
    expect(nagios.status).toBe(1);
    expect(sample("dsbackup_last_run_exit_status", "status")).toBe(1);

    // An unmounted backups folder: the run's failure reaches the prefix verify reported before.
    expect(dsbackup(["verify", "--backups", join(s.home, "nowhere"), "--metrics-file", metrics]).status).not.toBe(0);
    expect(sample("dsbackup_last_run_exit_status", "verify")).not.toBe(0);

    const text = readFileSync(metrics, "utf8");
    for (const command of ["backup", "verify", "prune", "status"]) expect(text).toContain(`dsbackup_last_run_timestamp_seconds{command="${command}",prefix="s"}`);
    if (hasPromtool) {
      const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
      expect(`${check.stdout}${check.stderr}`).toBe("");
      expect(check.status).toBe(0);
    }

    // A metrics file that cannot be written never changes the exit status.
    const bad = dsbackup(["--storage", s.home, "status", "--metrics-file", join(s.home, "no-such-dir", "m.prom")]);
    expect(bad.status).toBe(0);
    expect(bad.stderr).toMatch(/^dsbackup: warning: metrics not written to .*no-such-dir\/m\.prom: .*\n$/);
  });
});
