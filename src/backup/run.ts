// One backup run: a sequence of full/inc steps sharing one sequence number,
// archives written under temporary names, one index line, then the renames.
// Nothing reaches a final name unless every step that wrote did so completely.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { BackupRefusedError, ContextError, DsError, FileError, InterruptedError, StorageError, UsageError, fileError } from "../errors.ts";
import { writeArchive, type ArchiveEntry } from "../archive/writer.ts";
import { formatIndexLine, chooseReference, nextSequence, STREAMED_MARK, type IndexEntry } from "../index/tindex.ts";
import { appendIndexLine, INDEX_NAME, lockIndex, readIndex } from "../index/index-file.ts";
import { humanSize } from "../human-size.ts";
import { createTempFile, type TempFile } from "../fsutil/atomic.ts";
import { readU64File, type Storage } from "../storage/home.ts";
import { formatTid, ZERO_TID } from "../storage/records.ts";
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
  path: string;
  reference?: number;
  files: number;
  bytes: number;
}

export interface BackupReport {
  seq: number;
  tid: string;
  archives: WrittenArchive[];
  /** Steps that could not be done (no reference backup, packed since it...): the run exits non-zero. */
  refusals: string[];
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

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(".000Z", "Z");
}

type Plan =
  | { kind: "full"; finalName: string; entries: () => Iterable<ArchiveEntry> }
  | { kind: "inc"; finalName: string; reference: IndexEntry; entries: () => Iterable<ArchiveEntry> };

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
  const report: BackupReport = { seq, tid: newestTid, archives: [], refusals: [] };
  log(`This is backup sequence number ${seq}`);

  // Decide every archive first, so refusals and name clashes cost nothing.
  const plans: Plan[] = [];
  const fullPlan = (prefix: string): Plan => ({
    kind: "full",
    finalName: `${prefix}-${seq}.tgz`,
    entries: () => fullBackupEntries(storage, { warn }),
  });
  const hasFull = (prefix: string) => plans.some((p) => p.kind === "full" && p.finalName === `${prefix}-${seq}.tgz`);
  // A step that cannot be done: with --or-full a full backup instead, else a refusal (exit 13).
  const refuse = (prefix: string, message: string) => {
    if (!opts.orFull) {
      report.refusals.push(message);
      return;
    }
    log(`${message}; taking a full backup instead (--or-full)`);
    if (!hasFull(prefix)) plans.push(fullPlan(prefix));
  };
  for (const step of opts.steps) {
    if (step.kind === "full") {
      if (!hasFull(step.prefix)) plans.push(fullPlan(step.prefix));
      continue;
    }
    const reference = chooseReference(index, step.whenSeconds);
    if (!reference) {
      refuse(step.prefix, `No previous backup before ${JSON.stringify(step.when)} in ${join(backupsDir, INDEX_NAME)}; no incremental backup made`);
      continue;
    }
    const L = reference.tid;
    if (newestTid < L) {
      refuse(
        step.prefix,
        `Reference backup ${reference.seq} (transaction ${L}, ${formatTid(L)}) is in the future: the storage's newest transaction is ${newestTid}; a full backup is needed`,
      );
      continue;
    }
    if (packedTid > L) {
      refuse(step.prefix, `The storage was packed (${formatTid(packedTid)}) since reference backup ${reference.seq}: a full backup is needed`);
      continue;
    }
    if (newestTid === L) {
      log(`Ignoring empty incremental backup: nothing changed since backup ${reference.seq}`);
      continue;
    }
    plans.push({
      kind: "inc",
      finalName: `${step.prefix}-${reference.seq}-to-${seq}.tgz`,
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
      let result;
      try {
        result = await writeArchive(plan.entries(), fd, {
          level: opts.level,
          jobs: opts.jobs,
          signal: opts.signal,
          onProgress: line ? (p) => line.update(p) : undefined,
        });
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
      log(`${plan.kind === "full" ? "full" : "incremental"} backup complete, ${humanSize(result.outputBytes)}`);
      report.archives.push({
        kind: plan.kind,
        path: shownPath,
        reference: plan.kind === "inc" ? plan.reference.seq : undefined,
        files: result.files,
        bytes: result.outputBytes,
      });
    }
    if (report.archives.length > 0) {
      // The commit point. If making the folder durable fails after the new
      // index is in place, the run is committed all the same: finish it.
      let deferred: unknown;
      try {
        // A streamed archive is not in this folder: the line says so and gives its name.
        const streamed = opts.outputFd === undefined ? undefined : `${STREAMED_MARK} ${plans[0]!.finalName}`;
        appendIndexLine(backupsDir, formatIndexLine(seq, opts.timestamp, newestTid, streamed));
      } catch (err) {
        if (!indexHasSequence(backupsDir, seq)) throw err;
        deferred = err;
      }
      indexWritten = true;
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
          writeStats(backupsDir, { fullFiles: full.files, fullBytes: full.bytes });
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
