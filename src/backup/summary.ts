// What a backup run did, said once at its end: as lines for stderr and as
// the JSON document of `--json` (keys stable, documented in the README).
// Pure: a report in, text or a plain object out.
import { humanSize } from "../human-size.ts";
import { dateFromTid, ZERO_TID } from "../storage/records.ts";
import { isoSeconds as isoTime, type BackupReport, type StepReport, type WrittenArchive } from "./run.ts";

function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The closing lines of a run: sequence, each archive's counts and sizes, duration, the commit. */
export function summaryLines(report: BackupReport, durationSeconds: number): string[] {
  const head = `Backup ${report.seq} finished in ${seconds(durationSeconds)}: `;
  if (report.archives.length === 0) {
    return [`${head}no archive written and no index line added (${report.refusals.length ? "refused" : "nothing changed"})`];
  }
  const width = Math.max(...report.archives.map((a) => a.name.length));
  const lines = report.archives.map(
    (a) =>
      `  ${a.name.padEnd(width)}  ${(a.kind === "full" ? "full" : `changes since ${a.reference}`).padEnd(17)}` +
      `  ${plural(a.files, "file")}, tar ${humanSize(a.tarBytes)}, compressed ${humanSize(a.compressedBytes)}` +
      (a.encrypted ? `, encrypted ${humanSize(a.storedBytes)}` : "") +
      (a.streamed ? " (to standard output)" : ""),
  );
  const commit = report.indexCommitted
    ? `index line committed to ${report.indexPath}`
    : `index line NOT committed to ${report.indexPath}`;
  return [`${head}${plural(report.archives.length, "archive")}, ${commit}`, ...lines];
}

function archiveJson(a: WrittenArchive) {
  return {
    name: a.name,
    prefix: a.prefix,
    kind: a.kind,
    reference: a.reference ?? null,
    path: a.streamed ? null : a.path,
    streamed: a.streamed,
    files: a.files,
    entries: a.entries,
    contentBytes: a.contentBytes,
    tarBytes: a.tarBytes,
    compressedBytes: a.compressedBytes,
    encrypted: a.encrypted,
    storedBytes: a.storedBytes,
    seconds: Math.round(a.seconds * 1000) / 1000,
  };
}

function stepJson(s: StepReport) {
  return {
    command: s.command,
    prefix: s.prefix,
    when: s.when ?? null,
    whenTimestamp: s.whenSeconds ?? null,
    whenTime: s.whenSeconds === undefined ? null : isoTime(s.whenSeconds),
    reference: s.reference?.seq ?? null,
    referenceTime: s.reference ? isoTime(s.reference.timestamp) : null,
    referenceReason: s.referenceReason ?? null,
    outcome: s.outcome,
    archive: s.archive ?? null,
    message: s.message ?? null,
  };
}

export interface SummaryFacts {
  storage: string | null;
  /** Undefined when the run stopped before reading the index (locked, not a storage...). */
  report?: BackupReport;
  durationSeconds: number;
  exitStatus: number;
  /** The error or refusal line printed on stderr (without the "dsbackup: " prefix). */
  error?: string;
}

/** The `--json` document; every key is always present (null when unknown). */
export function summaryJson(facts: SummaryFacts) {
  const r = facts.report;
  return {
    messageType: "summary",
    ok: facts.exitStatus === 0,
    exitStatus: facts.exitStatus,
    error: facts.error ?? null,
    storage: facts.storage,
    backups: r?.backupsDir ?? null,
    seq: r?.seq ?? null,
    timestamp: r?.timestamp ?? null,
    time: r ? isoTime(r.timestamp) : null,
    tid: r?.tid ?? null,
    tidTime: r && r.tid !== ZERO_TID ? dateFromTid(r.tid).toISOString() : null,
    steps: r ? r.steps.map(stepJson) : [],
    archives: r ? r.archives.map(archiveJson) : [],
    refusals: r?.refusals ?? [],
    indexCommitted: r?.indexCommitted ?? false,
    indexLine: r?.indexLine ?? null,
    totalFiles: r ? r.archives.reduce((n, a) => n + a.files, 0) : 0,
    totalCompressedBytes: r ? r.archives.reduce((n, a) => n + a.compressedBytes, 0) : 0,
    durationSeconds: Math.round(facts.durationSeconds * 1000) / 1000,
  };
}
