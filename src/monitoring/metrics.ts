// Prometheus text exposition format (version 0.0.4), for node_exporter's
// textfile collector. Pure: metric families to text and back. One file may
// serve every command: writing merges the run's samples into what the file
// holds, replacing samples with the same name and labels and keeping the
// others, so backup, verify, prune and status share one file and a failed
// run keeps the last success timestamp it did not renew.
import { readFileSync } from "node:fs";
import { DsError, fileError } from "../errors.ts";
import { writeFileAtomic } from "../fsutil/atomic.ts";

export type MetricType = "gauge" | "counter" | "untyped";

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** The metrics dsbackup writes, with their help texts (one place, for the README too). */
export const METRICS = {
  dsbackup_last_success_timestamp_seconds: "Time the last successful run of this command ended (epoch seconds).",
  dsbackup_last_run_timestamp_seconds: "Time the last run of this command ended, successful or not (epoch seconds).",
  dsbackup_last_run_duration_seconds: "Duration of the last run of this command.",
  dsbackup_last_run_exit_status: "Exit status of the last run of this command (0 is success).",
  dsbackup_archive_bytes: "Compressed bytes: written by the last backup, read by the last verify, left by the last prune, held by the prefix for status.",
  dsbackup_files: "Files in the archives written by the last backup, or entries checked by the last verify.",
  dsbackup_newest_point_timestamp_seconds: "Snapshot time of the newest restorable point (epoch seconds).",
  dsbackup_newest_point_tid_timestamp_seconds: "Time of the newest transaction in the newest restorable point (epoch seconds).",
  dsbackup_restorable_points: "Number of restorable points of the prefix.",
  dsbackup_last_verify_success: "1 if the last verify found no problems, 0 if it found some.",
} as const;
export type MetricName = keyof typeof METRICS;

export class MetricsFormatError extends DsError {}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeLabel = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",")}}` : "";
}

/** The exposition text: families by name, samples by labels, so equal content gives equal bytes. */
export function formatMetrics(families: MetricFamily[]): string {
  const out: string[] = [];
  for (const f of [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!NAME.test(f.name)) throw new RangeError(`Cannot write metric: bad name ${JSON.stringify(f.name)}`);
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const lines = f.samples.map((s) => {
      for (const k of Object.keys(s.labels)) if (!LABEL.test(k) || k.startsWith("__")) throw new RangeError(`Cannot write metric ${f.name}: bad label name ${JSON.stringify(k)}`);
      return `${f.name}${labelText(s.labels)} ${formatValue(s.value)}`;
    });
    out.push(...[...new Set(lines)].sort());
  }
  return out.length ? `${out.join("\n")}\n` : "";
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/** Parse exposition text (what formatMetrics writes, and the common hand-written forms). */
export function parseMetrics(text: string, where = "metrics"): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, help: "", type: "untyped", samples: [] }));
    return f;
  };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const bad = (why: string) => new MetricsFormatError(`${where}:${i + 1}: ${why}`);
    const meta = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
    if (meta) {
      const f = family(meta[2]!);
      if (meta[1] === "HELP") f.help = unescape(meta[3] ?? "");
      else {
        const type = (meta[3] ?? "").trim();
        if (type !== "gauge" && type !== "counter" && type !== "untyped") throw bad(`unsupported metric type ${JSON.stringify(type)}`);
        f.type = type;
      }
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
    if (!m) throw bad("not a sample line");
    const labels: Record<string, string> = {};
    const body = m[3] ?? "";
    const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
    let at = 0;
    while (at < body.length) {
      re.lastIndex = at;
      const l = re.exec(body);
      if (!l) throw bad("bad label list");
      labels[l[1]!] = unescape(l[2]!);
      at = re.lastIndex;
    }
    const v = m[4]!;
    const value = v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : v === "NaN" ? NaN : Number(v);
    if (Number.isNaN(value) && v !== "NaN") throw bad(`bad value ${JSON.stringify(v)}`);
    family(m[1]!).samples.push({ labels, value });
  }
  return [...families.values()];
}

const sampleKey = (s: Sample) => labelText(s.labels);

/** `update`'s samples replace `base`'s with the same name and labels; everything else of `base` stays. */
export function mergeMetrics(base: MetricFamily[], update: MetricFamily[]): MetricFamily[] {
  const byName = new Map(base.map((f) => [f.name, { ...f, samples: [...f.samples] }]));
  for (const f of update) {
    const old = byName.get(f.name);
    if (!old) {
      byName.set(f.name, { ...f, samples: [...f.samples] });
      continue;
    }
    const replaced = new Set(f.samples.map(sampleKey));
    byName.set(f.name, { ...f, samples: [...old.samples.filter((s) => !replaced.has(sampleKey(s))), ...f.samples] });
  }
  return [...byName.values()];
}

/** Gauges of dsbackup's own names, all with the same labels (command, prefix). */
export function dsbackupGauges(labels: Record<string, string>, values: Partial<Record<MetricName, number>>): MetricFamily[] {
  return (Object.keys(values) as MetricName[])
    .filter((name) => values[name] !== undefined)
    .map((name) => ({ name, help: METRICS[name], type: "gauge" as const, samples: [{ labels, value: values[name]! }] }));
}

/**
 * Merge the run's metrics into FILE and replace it atomically (temporary
 * name, fsync, rename: the collector never reads half a file). A file that
 * does not parse is replaced whole, and `warn` says so.
 */
export function writeMetricsFile(path: string, families: MetricFamily[], warn: (message: string) => void): void {
  let base: MetricFamily[] = [];
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw fileError("read", path, err);
  }
  if (text !== undefined) {
    try {
      base = parseMetrics(text, path);
    } catch (err) {
      if (!(err instanceof MetricsFormatError)) throw err;
      warn(`${err.message}; replacing the whole file`);
    }
  }
  writeFileAtomic(path, formatMetrics(mergeMetrics(base, families)), 0o644);
}
