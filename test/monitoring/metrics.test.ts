// Prometheus text format: golden text, parse round trip, merging runs of
// several commands into one file, and promtool's verdict on the result.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dsbackupGauges, formatMetrics, mergeMetrics, METRICS, parseMetrics, writeMetricsFile, MetricsFormatError } from "../../src/monitoring/metrics.ts";
import { tempDir } from "../helpers.ts";

const backupRun = dsbackupGauges(
  { command: "backup", prefix: "mystorage" },
  {
    dsbackup_last_success_timestamp_seconds: 1795000000,
    dsbackup_last_run_timestamp_seconds: 1795000000,
    dsbackup_last_run_duration_seconds: 12.5,
    dsbackup_last_run_exit_status: 0,
    dsbackup_archive_bytes: 2048,
    dsbackup_files: 23,
  },
);

const GOLDEN = `# HELP dsbackup_archive_bytes ${METRICS.dsbackup_archive_bytes}
# TYPE dsbackup_archive_bytes gauge
dsbackup_archive_bytes{command="backup",prefix="mystorage"} 2048
# HELP dsbackup_files ${METRICS.dsbackup_files}
# TYPE dsbackup_files gauge
dsbackup_files{command="backup",prefix="mystorage"} 23
# HELP dsbackup_last_run_duration_seconds Duration of the last run of this command.
# TYPE dsbackup_last_run_duration_seconds gauge
dsbackup_last_run_duration_seconds{command="backup",prefix="mystorage"} 12.5
# HELP dsbackup_last_run_exit_status Exit status of the last run of this command (0 is success).
# TYPE dsbackup_last_run_exit_status gauge
dsbackup_last_run_exit_status{command="backup",prefix="mystorage"} 0
# HELP dsbackup_last_run_timestamp_seconds Time the last run of this command ended, successful or not (epoch seconds).
# TYPE dsbackup_last_run_timestamp_seconds gauge
dsbackup_last_run_timestamp_seconds{command="backup",prefix="mystorage"} 1795000000
# HELP dsbackup_last_success_timestamp_seconds Time the last successful run of this command ended (epoch seconds).
# TYPE dsbackup_last_success_timestamp_seconds gauge
dsbackup_last_success_timestamp_seconds{command="backup",prefix="mystorage"} 1795000000
`;

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
if (!hasPromtool) console.warn("SKIP: promtool not installed (Debian prometheus); metrics files not checked by it");

function promtool(text: string): { status: number; out: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe("exposition text", () => {
  test("golden: sorted families, HELP and TYPE, labels sorted", () => {
    expect(formatMetrics(backupRun)).toBe(GOLDEN);
  });
  test("escaping in labels and help, special values", () => {
    const text = formatMetrics([{ name: "x_total", help: "a\\b\nc", type: "counter", samples: [{ labels: { path: 'C:\\a"b\nc' }, value: Infinity }, { labels: { path: "n" }, value: NaN }] }]);
    expect(text).toBe('# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\nx_total{path="C:\\\\a\\"b\\nc"} +Inf\nx_total{path="n"} NaN\n');
    const [f] = parseMetrics(text);
    expect(f!.help).toBe("a\\b\nc");
    expect(f!.samples[0]!.labels.path).toBe('C:\\a"b\nc');
    expect(f!.samples[0]!.value).toBe(Infinity);
  });
  test("parse gives back what format wrote", () => {
    expect(formatMetrics(parseMetrics(GOLDEN))).toBe(GOLDEN);
  });
  test("bad names and malformed text are refused", () => {
    expect(() => formatMetrics([{ name: "1x", help: "", type: "gauge", samples: [{ labels: {}, value: 1 }] }])).toThrow(RangeError);
    expect(() => formatMetrics([{ name: "x", help: "", type: "gauge", samples: [{ labels: { "a-b": "1" }, value: 1 }] }])).toThrow(RangeError);
    expect(() => parseMetrics("x{a=1} 2\n")).toThrow(MetricsFormatError);
    expect(() => parseMetrics("x 1 2 3\n")).toThrow(MetricsFormatError);
    expect(() => parseMetrics("# TYPE x histogram\n")).toThrow(MetricsFormatError);
  });
  test.skipIf(!hasPromtool)("promtool accepts the golden text and refuses a broken one", () => {
    expect(promtool(GOLDEN)).toEqual({ status: 0, out: "" });
    expect(promtool("dsbackup_files{command=\"x\" 1\n").status).not.toBe(0);
  });
});

describe("one file for every command", () => {
  const verifyRun = dsbackupGauges({ command: "verify", prefix: "mystorage" }, { dsbackup_last_verify_success: 1, dsbackup_last_run_exit_status: 0, dsbackup_last_success_timestamp_seconds: 1795000100 });
  const failedBackup = dsbackupGauges({ command: "backup", prefix: "mystorage" }, { dsbackup_last_run_exit_status: 13, dsbackup_last_run_timestamp_seconds: 1795086400 });

  test("merge keeps other commands' samples and a failed run keeps the last success time", () => {
    const merged = mergeMetrics(mergeMetrics(backupRun, verifyRun), failedBackup);
    const text = formatMetrics(merged);
    expect(text).toContain('dsbackup_last_success_timestamp_seconds{command="backup",prefix="mystorage"} 1795000000\n');
    expect(text).toContain('dsbackup_last_success_timestamp_seconds{command="verify",prefix="mystorage"} 1795000100\n');
    expect(text).toContain('dsbackup_last_run_exit_status{command="backup",prefix="mystorage"} 13\n');
    expect(text).not.toContain('dsbackup_last_run_exit_status{command="backup",prefix="mystorage"} 0\n');
    expect(text).toContain("dsbackup_last_verify_success");
    // HELP and TYPE once per family however many commands wrote it.
    expect(text.match(/# TYPE dsbackup_last_run_exit_status /g)!.length).toBe(1);
  });

  test("writeMetricsFile replaces the file atomically, merging with what it held", () => {
    const dir = tempDir("metrics");
    const file = join(dir, "dsbackup.prom");
    writeMetricsFile(file, backupRun, () => {});
    writeMetricsFile(file, verifyRun, () => {});
    writeMetricsFile(file, failedBackup, () => {});
    const text = readFileSync(file, "utf8");
    expect(text).toBe(formatMetrics(mergeMetrics(mergeMetrics(backupRun, verifyRun), failedBackup)));
    expect(readdirSync(dir)).toEqual(["dsbackup.prom"]);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    if (hasPromtool) expect(promtool(text)).toEqual({ status: 0, out: "" });
  });

  test("a file that does not parse is replaced whole, with a warning", () => {
    const dir = tempDir("metrics");
    const file = join(dir, "dsbackup.prom");
    writeFileSync(file, "garbage here\n");
    const warnings: string[] = [];
    writeMetricsFile(file, backupRun, (m) => warnings.push(m));
    expect(readFileSync(file, "utf8")).toBe(GOLDEN);
    expect(warnings).toEqual([`${file}:1: bad value "here"; replacing the whole file`]);
  });
});
