// One backup run: a sequence of full/inc steps sharing one sequence number,
// archives written under temporary names, one index line, then the renames.
// Nothing reaches a final name unless every step that wrote did so completely.
import { createHash, type Hash } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { BackupRefusedError, ContextError, DsError, FileError, IndexConflictError, InterruptedError, NothingWrittenError, StorageError, UsageError } from "../errors.ts";
import { descriptorSink, writeArchive, type ArchiveEntry, type ByteSink } from "../archive/writer.ts";
import { AGE_SUFFIX, encryptingSink, type EncryptionKey } from "../crypto/index.ts";
import { formatIndexLine, chooseReference, indexComment, INDEX_HEADER, nextSequence, type ArchiveDigest, type IndexEntry } from "../index/tindex.ts";
import { humanSize } from "../human-size.ts";
import { settleLeftovers } from "../location/leftovers.ts";
import { INDEX_OBJECT, type Location, type ObjectWriter } from "../location/location.ts";
import { readLocationIndex } from "../restore/catalog.ts";
import { readU64File, type Storage } from "../storage/home.ts";
import { formatTid, ZERO_TID } from "../storage/records.ts";
import { formatTime } from "../time/format.ts";
import { sequenceAfterLeftovers } from "./stale.ts";
import { fullBackupEntries, incrementalBackupEntries } from "./entries.ts";
import type { BackupStep } from "./plan.ts";
import { readStats, writeStats, type ProgressLine } from "./progress.ts";

export interface BackupOptions {
  storage: Storage;
  /** Where the archives and the index go, locked by the caller for the whole run. */
  location: Location;
  /** Epoch seconds of the snapshot, written to the index. */
  timestamp: number;
  steps: BackupStep[];
  /** Take a full backup when `inc` finds no reference backup. */
  orFull?: boolean;
  /** Write the (single) archive to this descriptor instead of the location. */
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
  /** Size and lowercase hex sha256 of the bytes written (recorded in the index line). */
  sha256?: string;
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

/** Whether the location's index has a line for `seq` (false if it cannot be read). */
async function indexHasSequence(location: Location, seq: number): Promise<boolean> {
  try {
    return (await readLocationIndex(location)).entries.some((e) => e.seq === seq);
  } catch {
    return false;
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
  const { storage, location, log, warn } = opts;
  const index = await readLocationIndex(location);
  // The location's lock is held (by our caller) and the storage's sublock (by
  // us, or by the snapshot tool that runs us), so no other run can be
  // writing: a dead run's leftovers can be settled. Worth a warning even under -q.
  await settleLeftovers(location, index.entries, warn);
  const objects = new Set((await location.list()).map((o) => o.name));
  const seq = sequenceAfterLeftovers(nextSequence(index.entries), [...objects]);
  const last = index.entries.at(-1);
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
    backupsDir: location.display,
    indexPath: location.where(INDEX_OBJECT),
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
    const reference = chooseReference(index.entries, step.whenSeconds);
    const stepReport: StepReport = {
      command: "inc",
      prefix: step.prefix,
      when: step.when,
      whenSeconds: step.whenSeconds,
      reference: reference && { seq: reference.seq, timestamp: reference.timestamp },
      referenceReason: referenceReason(index.entries, step.whenSeconds, reference, opts.zone),
      outcome: "written",
    };
    report.steps.push(stepReport);
    const resolved = `inc ${JSON.stringify(step.when)} means ${showInstant(step.whenSeconds, opts.zone)}`;
    if (!reference) {
      refuse(stepReport, `No previous backup at or before ${JSON.stringify(step.when)} (${showInstant(step.whenSeconds, opts.zone)}) in ${location.where(INDEX_OBJECT)}: ${stepReport.referenceReason}; no incremental backup made`);
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
    if (opts.outputFd === undefined && objects.has(plan.finalName)) {
      throw new BackupRefusedError(`${location.where(plan.finalName)} already exists; refusing to overwrite it (is backups/tindex out of date?)`);
    }
  }
  if (opts.outputFd !== undefined && plans.length > 1) {
    throw new UsageError("--output - writes one archive: give a single full or inc command");
  }

  const writers: ObjectWriter[] = [];
  const digests: ArchiveDigest[] = [];
  let indexWritten = false;
  try {
    for (const plan of plans) {
      const shownPath = opts.outputFd === undefined ? location.where(plan.finalName) : `standard output (name it ${plan.finalName})`;
      if (plan.kind === "full") log(`Creating full backup ${shownPath}`);
      else log(`Creating incremental backup ${shownPath} of changes since backup ${plan.reference.seq} (taken ${isoSeconds(plan.reference.timestamp)})`);
      let writer: ObjectWriter | undefined;
      if (opts.outputFd === undefined) {
        writer = await location.write(plan.finalName, { signal: opts.signal });
        writers.push(writer);
      }
      // What went to standard output is hashed as it goes, for the index line.
      const stdoutHash = writer ? undefined : createHash("sha256");
      const line = opts.progress?.start(plan.kind, plan.kind === "full" ? (await readStats(location))?.fullFiles : undefined);
      const started = performance.now();
      let result;
      // Where the bytes go: the location's writer, or standard output. Encrypted,
      // the writer's compressed blocks go through the cipher first: no plaintext
      // byte is written anywhere.
      const inner: ByteSink | number = writer ?? opts.outputFd!;
      const sealed = opts.encryption
        ? encryptingSink(opts.encryption, hashingSink(typeof inner === "number" ? descriptorSink(inner) : inner, stdoutHash))
        : undefined;
      try {
        result = await writeArchive(plan.entries(), sealed ?? inner, {
          level: opts.level,
          jobs: opts.jobs,
          signal: opts.signal,
          onProgress: line ? (p) => line.update(p) : undefined,
          onOutput: stdoutHash && !sealed ? (chunk) => stdoutHash.update(chunk) : undefined,
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
      // Durable now (folder: fsynced under the temporary name; S3: the upload completed).
      // The digest is of what was stored: the ciphertext of an encrypted archive.
      const written = writer
        ? await writer.seal()
        : { name: plan.finalName, size: sealed ? sealed.bytesWritten : result.outputBytes, sha256: stdoutHash!.digest("hex") };
      digests.push({ name: plan.finalName, size: written.size, sha256: written.sha256 });
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
        sha256: written.sha256,
      });
    }
    if (report.archives.length > 0) {
      // The commit point, a conditional replace of the index read at the start.
      // If making it durable fails once the new index is in place, the run is
      // committed all the same: finish it.
      let deferred: unknown;
      try {
        // A streamed archive is not in this location: the line says so and gives its name.
        const streamedAs = opts.outputFd === undefined ? undefined : plans[0]!.finalName;
        report.indexLine = formatIndexLine(seq, opts.timestamp, newestTid, indexComment({ streamedAs, digests })).trimEnd();
        let text = index.text ?? INDEX_HEADER;
        if (text !== "" && !text.endsWith("\n")) text += "\n";
        await location.replaceIndex(`${text}${report.indexLine}\n`, index.token);
      } catch (err) {
        if (err instanceof IndexConflictError || !(await indexHasSequence(location, seq))) throw err;
        deferred = err;
      }
      indexWritten = true;
      report.indexCommitted = true;
      for (const writer of writers) {
        try {
          await writer.commit();
        } catch (err) {
          deferred ??= err;
        }
      }
      if (deferred) throw deferred;
      const full = report.archives.find((a) => a.kind === "full");
      if (full && !full.streamed) {
        try {
          await writeStats(location, { fullFiles: full.files, fullBytes: full.compressedBytes });
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
    if (error instanceof IndexConflictError) {
      throw new ContextError(`${error.message}; this run's archives were removed again (${report.archives.map((a) => a.name).join(", ")}): run the backup again`, error);
    }
    throw new ContextError(`${error.message}; nothing was committed`, error);
  } finally {
    // Once the index names this run's archives, they are kept whatever happens:
    // the next run completes any still under a temporary name (backup/stale.ts).
    if (!indexWritten) for (const writer of writers) await writer.abort();
  }
  return report;
}

/** `inner`, with every chunk also fed to `hash` (standard output's digest for the index line). */
function hashingSink(inner: ByteSink, hash: Hash | undefined): ByteSink {
  if (!hash) return inner;
  return {
    label: inner.label,
    async write(chunk) {
      hash.update(chunk);
      await inner.write(chunk);
    },
  };
}
