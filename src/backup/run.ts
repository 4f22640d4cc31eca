// One backup run: a sequence of full/inc steps sharing one sequence number,
// archives written under temporary names, one index line, then the renames.
// Nothing reaches a final name unless every step that wrote did so completely.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { BackupRefusedError, ContextError, DsError, FileError, InterruptedError, NothingWrittenError, StorageError, UsageError, fileError } from "../errors.ts";
import { descriptorSink, writeArchive, type ArchiveEntry } from "../archive/writer.ts";
import { AGE_SUFFIX, encryptingSink, type EncryptionKey } from "../crypto/index.ts";
import { formatIndexLine, chooseReference, nextSequence, STREAMED_MARK, type IndexEntry } from "../index/tindex.ts";
import { appendIndexLine, INDEX_NAME, lockIndex, readIndex } from "../index/index-file.ts";
import { humanSize } from "../human-size.ts";
import { createTempFile, type TempFile } from "../fsutil/atomic.ts";
import { readU64File, type Storage } from "../storage/home.ts";
import { formatTid, ZERO_TID } from "../storage/records.ts";
import { formatTime } from "../time/format.ts";
import { recoverStaleTemps, sequenceAfterLeftovers } from "./stale.ts";
import { fullBackupEntries, incrementalBackupEntries } from "./entries.ts";
import type { BackupStep } from "./plan.ts";
import { readStats, writeStats, type ProgressLine } from "./progress.ts";

export interface BackupOptions {
  storage: Storage;
  /** Epoch seconds of the snapshot, written to the index. */
  timestamp: number;
  steps: BackupStep[];
  /** Take a full backup when `inc` finds no reference backup. */
  orFull?: boolean;
  /** Write the (single) archive to this descriptor instead of backups/. */
  outputFd?: number;
  /** Encrypt every archive with age to this key: NAME.tgz.age, never a plaintext byte on disk. */
  encryption?: EncryptionKey | null;
  /** TZ for the times in messages (resolved WHEN, reference backups); UTC when absent. */
  zone?: string;
  level?: number;
  jobs?: number;
  signal?: AbortSignal;
  log: (message: string) => void;
  warn: (message: string) => void;
  /** Called with an estimate of the file count (previous full backup), then with progress. */
  progress?: { start(kind: "full" | "inc", expectedFiles?: number): ProgressLine };
}

export interface WrittenArchive {
  kind: "full" | "inc";
  /** File name, e.g. backup-3-to-5.tgz (also for an archive written to standard output). */
  name: string;
  prefix: string;
  /** Where it was written: its final path, or "standard output (name it NAME)". */
  path: string;
  /** Written to the output descriptor (--output -), not into backups/. */
  streamed: boolean;
  reference?: number;
  files: number;
  /** Archive entries: files and directories. */
  entries: number;
  /** Bytes of file content read from the storage. */
  contentBytes: number;
  /** Bytes of the uncompressed tar stream. */
  tarBytes: number;
  /** Bytes of the .tgz (compressed) written. */
  compressedBytes: number;
  /** Encrypted with age (NAME.tgz.age). */
  encrypted: boolean;
  /** Bytes stored: the .tgz, or the .tgz.age (age adds a header and 16 bytes per 64 KiB). */
  storedBytes: number;
  /** Seconds spent writing this archive. */
  seconds: number;
}

/** What became of one command word (full, or inc WHEN) of the run. */
export interface StepReport {
  command: "full" | "inc";
  prefix: string;
  /** inc: WHEN as given, and the instant it means (epoch seconds). */
  when?: string;
  whenSeconds?: number;
  /** inc: the reference backup chosen for WHEN, if any. */
  reference?: { seq: number; timestamp: number };
  /** inc: why that reference (or none): the rule applied to the index. */
  referenceReason?: string;
  outcome: "written" | "empty" | "refused" | "full-instead" | "same-full";
  /** The archive this step wrote (or shares, for same-full and full-instead). */
  archive?: string;
  /** For refused, empty and full-instead: the message said. */
  message?: string;
}

export interface BackupReport {
  seq: number;
  /** Snapshot time (epoch seconds), as written to the index. */
  timestamp: number;
  tid: string;
  backupsDir: string;
  indexPath: string;
  steps: StepReport[];
  archives: WrittenArchive[];
  /** Steps that could not be done (no reference backup, packed since it...): the run exits non-zero. */
  refusals: string[];
  /** The index line (without newline) was appended to tindex: the run's archives count. */
  indexCommitted: boolean;
  indexLine?: string;
}

export function backupsDirectory(home: string): string {
  const dir = join(home, "backups");
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir) throw new StorageError(`${dir} does not exist or is not a directory; create it first (mkdir ${dir})`);
  return dir;
}

/** Whether backups/tindex has a line for `seq` (false if it cannot be read). */
function indexHasSequence(backupsDir: string, seq: number): boolean {
  try {
    return readIndex(backupsDir).some((e) => e.seq === seq);
  } catch {
    return false;
  }
}

function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw fileError("read directory", dir, err);
  }
}

export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(".000Z", "Z");
}

/** An instant as the operator's clock shows it, then in UTC when TZ is another zone. */
export function showInstant(epochSeconds: number, zone: string | undefined): string {
  const format = "%Y-%m-%d %H:%M:%S %Z";
  const date = new Date(epochSeconds * 1000);
  const local = formatTime(date, format, { zone });
  const utc = formatTime(date, format, { utc: true });
  return local === utc ? utc : `${local} = ${utc}`;
}

/** Why chooseReference picked `reference` (or nothing) for WHEN. */
function referenceReason(index: IndexEntry[], whenSeconds: number, reference: IndexEntry | undefined, zone: string | undefined): string {
  const shown = (e: IndexEntry) => `backup ${e.seq}, taken ${showInstant(e.timestamp, zone)}`;
  if (!reference) {
    const first = index[0];
    return first ? `every backup is later: the oldest is ${shown(first)}` : "the index has no backups yet";
  }
  const next = index.find((e) => e.timestamp > whenSeconds);
  return `${shown(reference)}: the newest backup taken at or before then` + (next ? ` (${shown(next)}, is later)` : "");
}

type Plan =
  | { kind: "full"; prefix: string; finalName: string; entries: () => Iterable<ArchiveEntry> }
  | { kind: "inc"; prefix: string; finalName: string; reference: IndexEntry; entries: () => Iterable<ArchiveEntry> };

export async function runBackup(opts: BackupOptions): Promise<BackupReport> {
  const backupsDir = backupsDirectory(opts.storage.home);
  // Held for the whole run: a prune must not rewrite the index between our read and our append.
  const indexLock = lockIndex(backupsDir, "backup");
  try {
    return await runBackupLocked(opts, backupsDir);
  } finally {
    indexLock.release();
  }
}

async function runBackupLocked(opts: BackupOptions, backupsDir: string): Promise<BackupReport> {
  const { storage, log, warn } = opts;
  const index = readIndex(backupsDir);
  // The storage's sublock is held (by us, or by the snapshot tool that runs
  // us), so no other run can be writing: a dead run's files can be settled.
  // Worth a warning even under -q.
  recoverStaleTemps(backupsDir, index, warn);
  const seq = sequenceAfterLeftovers(nextSequence(index), listNames(backupsDir));
  const last = index.at(-1);
  if (last && opts.timestamp < last.timestamp) {
    // inc WHEN and restore --at rely on index times going forward.
    throw new BackupRefusedError(
      `the snapshot time ${isoSeconds(opts.timestamp)} is before backup ${last.seq}'s (${isoSeconds(last.timestamp)}); ` +
        "index times must go forward: is the clock or SNAPSHOT_TIMESTAMP wrong?",
    );
  }
  const newestTid = readU64File(storage, "x.serial", false) ?? ZERO_TID;
  const packedTid = readU64File(storage, "x.packed", false) ?? ZERO_TID;
  const report: BackupReport = {
    seq,
    timestamp: opts.timestamp,
    tid: newestTid,
    backupsDir,
    indexPath: join(backupsDir, INDEX_NAME),
    steps: [],
    archives: [],
    refusals: [],
    indexCommitted: false,
  };
  log(`This is backup sequence number ${seq}`);

  // Decide every archive first, so refusals and name clashes cost nothing.
  const plans: Plan[] = [];
  const tgz = opts.encryption ? `.tgz${AGE_SUFFIX}` : ".tgz";
  const fullPlan = (prefix: string): Plan => ({
    kind: "full",
    prefix,
    finalName: `${prefix}-${seq}${tgz}`,
    entries: () => fullBackupEntries(storage, { warn }),
  });
  const hasFull = (prefix: string) => plans.some((p) => p.kind === "full" && p.finalName === `${prefix}-${seq}${tgz}`);
  // A step that cannot be done: with --or-full a full backup instead, else a refusal (exit 13).
  const refuse = (step: StepReport, message: string) => {
    step.message = message;
    if (!opts.orFull) {
      step.outcome = "refused";
      report.refusals.push(`${message} (add --or-full to take a full backup instead)`);
      return;
    }
    log(`${message}; taking a full backup instead (--or-full)`);
    step.outcome = "full-instead";
    step.archive = `${step.prefix}-${seq}${tgz}`;
    if (!hasFull(step.prefix)) plans.push(fullPlan(step.prefix));
  };
  for (const step of opts.steps) {
    if (step.kind === "full") {
      const same = hasFull(step.prefix);
      report.steps.push({ command: "full", prefix: step.prefix, outcome: same ? "same-full" : "written", archive: `${step.prefix}-${seq}${tgz}` });
      if (!same) plans.push(fullPlan(step.prefix));
      continue;
    }
    const reference = chooseReference(index, step.whenSeconds);
    const stepReport: StepReport = {
      command: "inc",
      prefix: step.prefix,
      when: step.when,
      whenSeconds: step.whenSeconds,
      reference: reference && { seq: reference.seq, timestamp: reference.timestamp },
      referenceReason: referenceReason(index, step.whenSeconds, reference, opts.zone),
      outcome: "written",
    };
    report.steps.push(stepReport);
    const resolved = `inc ${JSON.stringify(step.when)} means ${showInstant(step.whenSeconds, opts.zone)}`;
    if (!reference) {
      refuse(stepReport, `No previous backup at or before ${JSON.stringify(step.when)} (${showInstant(step.whenSeconds, opts.zone)}) in ${join(backupsDir, INDEX_NAME)}: ${stepReport.referenceReason}; no incremental backup made`);
      continue;
    }
    log(`${resolved}; reference: ${stepReport.referenceReason}`);
    const L = reference.tid;
    if (newestTid < L) {
      refuse(
        stepReport,
        `Reference backup ${reference.seq} (transaction ${L}, ${formatTid(L)}) is in the future: the storage's newest transaction is ${newestTid}; a full backup is needed`,
      );
      continue;
    }
    if (packedTid > L) {
      refuse(stepReport, `The storage was packed (${formatTid(packedTid)}) since reference backup ${reference.seq}: a full backup is needed`);
      continue;
    }
    if (newestTid === L) {
      stepReport.outcome = "empty";
      stepReport.message = `nothing changed since backup ${reference.seq}`;
      if (opts.outputFd !== undefined) {
        // A pipe to `ssh host 'cat > x.tgz'` would leave an empty file behind a success.
        throw new NothingWrittenError(
          `nothing changed since backup ${reference.seq} (transaction ${L}): no archive was written to standard output ` +
            "and no index line added; whatever received standard output is empty and is no backup",
        );
      }
      log(`Ignoring empty incremental backup: nothing changed since backup ${reference.seq}`);
      continue;
    }
    stepReport.archive = `${step.prefix}-${reference.seq}-to-${seq}${tgz}`;
    plans.push({
      kind: "inc",
      prefix: step.prefix,
      finalName: `${step.prefix}-${reference.seq}-to-${seq}${tgz}`,
      reference,
      entries: () => incrementalBackupEntries(storage, newestTid, L),
    });
  }

  const seen = new Set<string>();
  for (const plan of plans) {
    if (seen.has(plan.finalName)) throw new UsageError(`two commands would both write ${plan.finalName}`);
    seen.add(plan.finalName);
    if (opts.outputFd === undefined && existsSync(join(backupsDir, plan.finalName))) {
      throw new BackupRefusedError(`${join(backupsDir, plan.finalName)} already exists; refusing to overwrite it (is backups/tindex out of date?)`);
    }
  }
  if (opts.outputFd !== undefined && plans.length > 1) {
    throw new UsageError("--output - writes one archive: give a single full or inc command");
  }

  const temps: TempFile[] = [];
  let indexWritten = false;
  try {
    for (const plan of plans) {
      const finalPath = join(backupsDir, plan.finalName);
      const shownPath = opts.outputFd === undefined ? finalPath : `standard output (name it ${plan.finalName})`;
      if (plan.kind === "full") log(`Creating full backup ${shownPath}`);
      else log(`Creating incremental backup ${shownPath} of changes since backup ${plan.reference.seq} (taken ${isoSeconds(plan.reference.timestamp)})`);
      let fd = opts.outputFd;
      if (fd === undefined) {
        const temp = createTempFile(finalPath, 0o640);
        temps.push(temp);
        fd = temp.fd;
      }
      const line = opts.progress?.start(plan.kind, plan.kind === "full" ? readStats(backupsDir)?.fullFiles : undefined);
      const started = performance.now();
      let result;
      // Encrypted: the writer's compressed blocks go through the cipher to the
      // descriptor; no plaintext byte is written anywhere.
      const sealed = opts.encryption ? encryptingSink(opts.encryption, descriptorSink(fd)) : undefined;
      try {
        result = await writeArchive(plan.entries(), sealed ?? fd, {
          level: opts.level,
          jobs: opts.jobs,
          signal: opts.signal,
          onProgress: line ? (p) => line.update(p) : undefined,
        });
        await sealed?.end();
      } catch (err) {
        // The writer knows only a descriptor: name the archive the user asked for.
        if (err instanceof FileError && err.operation === "write" && err.path.startsWith("the archive")) {
          throw new FileError("write", shownPath, err.cause);
        }
        throw err;
      } finally {
        line?.clear();
      }
      temps.at(-1)?.seal();
      const stored = sealed ? `, ${humanSize(sealed.bytesWritten)} encrypted` : "";
      log(`${plan.kind === "full" ? "full" : "incremental"} backup complete, ${humanSize(result.outputBytes)} compressed${stored}`);
      report.archives.push({
        kind: plan.kind,
        name: plan.finalName,
        prefix: plan.prefix,
        path: shownPath,
        streamed: opts.outputFd !== undefined,
        reference: plan.kind === "inc" ? plan.reference.seq : undefined,
        files: result.files,
        entries: result.entries,
        contentBytes: result.inputBytes,
        tarBytes: result.tarBytes,
        compressedBytes: result.outputBytes,
        encrypted: sealed !== undefined,
        storedBytes: sealed?.bytesWritten ?? result.outputBytes,
        seconds: (performance.now() - started) / 1000,
      });
    }
    if (report.archives.length > 0) {
      // The commit point. If making the folder durable fails after the new
      // index is in place, the run is committed all the same: finish it.
      let deferred: unknown;
      try {
        // A streamed archive is not in this folder: the line says so and gives its name.
        const streamed = opts.outputFd === undefined ? undefined : `${STREAMED_MARK} ${plans[0]!.finalName}`;
        report.indexLine = formatIndexLine(seq, opts.timestamp, newestTid, streamed).trimEnd();
        appendIndexLine(backupsDir, `${report.indexLine}\n`);
      } catch (err) {
        if (!indexHasSequence(backupsDir, seq)) throw err;
        deferred = err;
      }
      indexWritten = true;
      report.indexCommitted = true;
      for (const temp of temps) {
        try {
          temp.commit();
        } catch (err) {
          deferred ??= err;
        }
      }
      if (deferred) throw deferred;
      const full = report.archives.find((a) => a.kind === "full");
      if (full) {
        try {
          writeStats(backupsDir, { fullFiles: full.files, fullBytes: full.compressedBytes });
        } catch (err) {
          warn(`could not record statistics for the progress ETA: ${(err as Error).message}`);
        }
      }
    }
  } catch (err) {
    const error = err instanceof DsError ? err : new DsError(`Backup failed: ${(err as Error).message}`, { cause: err });
    if (error instanceof InterruptedError) throw error;
    if (indexWritten) {
      throw new ContextError(
        `${error.message} (after backup ${seq} was recorded in the index; an archive left under a temporary name is completed by the next run)`,
        error,
      );
    }
    throw new ContextError(`${error.message}; nothing was committed`, error);
  } finally {
    // Once the index names this run's archives, they are kept whatever happens:
    // the next run renames any still under a temporary name (backup/stale.ts).
    if (!indexWritten) for (const temp of temps) temp.discard();
  }
  return report;
}
