// Checking archives: one pass over each archive that decompresses it
// completely (gzip CRC and length of every member), reads the tar stream with
// a checking reader, and decodes every record file under A/ (magic, length,
// md5 when present, name against content). What it learns about transactions
// lets callers check that a chain of archives has no gap.
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { AgeNoIdentityError, withoutLabel, type DecryptionKeys } from "../crypto/index.ts";
import { CorruptRecordError, describeErrno, DsError, FileError, InterruptedError, ObjectNotFoundError, S3Error } from "../errors.ts";
import { archiveBytes, digestMismatch, openArchive, StreamDigest, type ArchiveSource } from "./archive-stream.ts";
import {
  decodePointer,
  decodeRevision,
  decodeTransaction,
  decodeU64Hex,
  formatTid,
  REVISION_MAGIC,
  TRANSACTION_MAGIC,
  ZERO_TID,
} from "../storage/records.ts";
import type { IndexEntry } from "../index/tindex.ts";
import type { CatalogArchive } from "./catalog.ts";
import { describeTypeFlag, entryProblem } from "./entry-rules.ts";
import type { ArchiveName } from "./plan.ts";
import type { ArchiveProgress } from "./progress.ts";
import { TarReader, type TarEntry } from "./tar-reader.ts";

export interface Problem {
  /** Archive file name. */
  archive: string;
  /** Entry inside the archive, when the problem concerns one. */
  entry?: string;
  message: string;
}

export interface ArchiveCheck {
  archive: string;
  /** Where it was read: a path or s3://BUCKET/PATH/NAME. */
  path: string;
  problems: Problem[];
  entries: number;
  /** Entries that are regular files. */
  files: number;
  /** Bytes of the decompressed tar stream. */
  tarBytes: number;
  /** Newest transaction id in A/x.serial of this archive, if present. */
  newestTid?: string;
  /** Transactions in the archive (only with records): tid to previous tid and oids. */
  transactions: Map<string, { previousTid: string; oids: string[] }>;
  /** Object revisions in the archive (only with records): "OID.SERIAL". */
  revisions: Set<string>;
  /** The problem saying its bytes are not those recorded in the index (also in problems). */
  digestMismatch?: string;
}

/** Somewhere else to send the decompressed tar stream (the extractor). */
export interface TarSink {
  /** false: wait for drained() before writing more. */
  write(chunk: Uint8Array): boolean;
  drained(): Promise<void>;
  /** End of stream; resolves when everything is written. */
  end(): Promise<void>;
  /** Stop early: resolves when nothing more will be written; never rejects. */
  abort(): Promise<void>;
}

export interface CheckOptions {
  /** Decode every record file (verify); without it only the stream, entry names and x.serial are checked. */
  records: boolean;
  sink?: TarSink;
  signal?: AbortSignal;
  /** Called as the archive is read (cumulative for this archive), for a progress line. */
  onProgress?: (p: ArchiveProgress) => void;
  /** Identities or passphrases for a NAME.tgz.age archive (decrypted in the stream). */
  keys?: DecryptionKeys;
  /** The stored size (from the folder's listing): an encrypted archive shorter than it is truncated. */
  expectedSize?: number;
}

/**
 * A flat shape for a path under A/, whatever the storage format: dots and
 * slashes removed. `A/t0/12/34/567/89ABCDEF` and `A/t012345.6789ABCDEF` are
 * both `t0123456789ABCDEF`.
 */
function recordShape(pathInA: string):
  | { kind: "transaction"; tid: string }
  | { kind: "revision"; oid: string; serial: string }
  | { kind: "pointer"; oid: string }
  | { kind: "value"; name: string }
  | undefined {
  const flat = pathInA.replace(/[./]/g, "");
  let m: RegExpExecArray | null;
  if ((m = /^t([0-9A-F]{16})$/.exec(flat))) return { kind: "transaction", tid: m[1]! };
  if ((m = /^o([0-9A-F]{16})([0-9A-F]{16})$/.exec(flat))) return { kind: "revision", oid: m[1]!, serial: m[2]! };
  if ((m = /^o([0-9A-F]{16})c$/.exec(flat))) return { kind: "pointer", oid: m[1]! };
  if ((m = /^x(serial|oid|packed)$/.exec(flat))) return { kind: "value", name: m[1]! };
  return undefined;
}

function magicOf(data: Uint8Array): number | undefined {
  return data.length >= 4 ? new DataView(data.buffer, data.byteOffset, 4).getUint32(0) : undefined;
}

/** Check one file under A/; record what it says in `check`. Throws CorruptRecordError or returns a problem. */
function checkRecord(name: string, data: Uint8Array, check: ArchiveCheck): string | undefined {
  const shape = recordShape(name.slice(2));
  const magic = magicOf(data);
  if (magic === TRANSACTION_MAGIC || shape?.kind === "transaction") {
    const t = decodeTransaction(data, name);
    if (t.md5Valid === false) return "md5 does not match the content";
    if (shape?.kind === "transaction" && shape.tid !== t.tid) return `holds transaction ${t.tid}, its name says ${shape.tid}`;
    check.transactions.set(t.tid, { previousTid: t.previousTid, oids: t.oids });
    return undefined;
  }
  if (magic === REVISION_MAGIC || shape?.kind === "revision") {
    const r = decodeRevision(data, name);
    if (r.md5Valid === false) return "md5 does not match the content";
    if (shape?.kind === "revision" && (shape.oid !== r.oid || shape.serial !== r.serial)) {
      return `holds revision ${r.oid} serial ${r.serial}, its name says ${shape.oid} serial ${shape.serial}`;
    }
    check.revisions.add(`${r.oid}.${r.serial}`);
    return undefined;
  }
  if (shape?.kind === "pointer") decodePointer(data, name);
  else if (shape?.kind === "value") decodeU64Hex(data, name);
  return undefined;
}

/**
 * Read one archive completely, checking as it goes; every problem found is in
 * the result (reading stops at the first one the stream cannot recover from).
 * With a sink, the same decompressed bytes are also handed to it.
 */
export async function checkArchive(source: ArchiveSource, opts: CheckOptions): Promise<ArchiveCheck> {
  const archive = source.name;
  const check: ArchiveCheck = { archive, path: source.location.where(archive), problems: [], entries: 0, files: 0, tarBytes: 0, transactions: new Map(), revisions: new Set() };
  const problem = (message: string, entry?: string) => check.problems.push({ archive, entry, message });
  const isSerial = (name: string) => recordShape(name.slice(2))?.kind === "value" && /serial$/.test(name);
  const reader = new TarReader({
    wantData: (e: TarEntry) => e.name.startsWith("A/") && (opts.records || isSerial(e.name)),
    onEntry: (e, data) => {
      check.entries++;
      const kind = describeTypeFlag(e.type);
      if (kind === "file") check.files++;
      const refused = entryProblem(e.name, kind);
      if (refused) return problem(refused, e.name);
      if (!data) return;
      try {
        if (isSerial(e.name)) check.newestTid = decodeU64Hex(data, e.name);
        if (opts.records) {
          const message = checkRecord(e.name, data, check);
          if (message) problem(message, e.name);
        }
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        problem(err.message.replace(`${e.name}: `, ""), e.name);
      }
    },
    onProblem: (message, entry) => problem(message, entry),
  });

  const gunzip = createGunzip();
  let digest: StreamDigest | undefined;
  let input: Readable | undefined;
  let readAll = false;
  let sinkFailed = false;
  try {
    const opened = await openArchive(source, { keys: opts.keys, expectedSize: opts.expectedSize });
    digest = opened.stored;
    input = Readable.from(opened.gzip, { objectMode: false });
    input.on("error", (err) => gunzip.destroy(err));
    for await (const chunk of input.pipe(gunzip) as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new InterruptedError("interrupted");
      check.tarBytes += chunk.length;
      reader.push(chunk);
      opts.onProgress?.({ files: check.files, tarBytes: check.tarBytes, readBytes: digest!.size });
      if (opts.sink && !reader.failed && !opts.sink.write(chunk)) await opts.sink.drained();
    }
    readAll = true;
    reader.end();
  } catch (err) {
    // The location failing (S3 timeout, refused credentials) is no damage of the archive: stop.
    // A wrong or missing key is no fault of the archive either: exit 21, naming it.
    if (err instanceof InterruptedError || opts.signal?.aborted || err instanceof S3Error || err instanceof AgeNoIdentityError) {
      await opts.sink?.abort();
      throw err;
    }
    const e = (err instanceof FileError ? err.cause : err) as NodeJS.ErrnoException;
    const detail = e.code === "Z_BUF_ERROR" ? "gzip stream truncated" : e.code?.startsWith("Z_") ? `gzip data corrupt (${e.message})` : e.code ? describeErrno(e) : withoutLabel(e, archive);
    problem(err instanceof ObjectNotFoundError || e.code === "ENOENT" ? "archive file is missing" : `cannot read: ${detail}`);
  } finally {
    input?.destroy();
  }
  // Checked before the sink ends: restore renames nothing into TARGET after a mismatch.
  if (source.digest && !check.problems.some((p) => p.message === "archive file is missing")) {
    let read: { size: number; sha256: string } = digest ?? { size: -1, sha256: "" };
    if (!readAll) {
      // The stream stopped at the damage: read it all once more for the digest, the clearer finding.
      try {
        // The bytes as stored, not decoded: the digest is theirs.
        const again = new StreamDigest();
        for await (const _ of again.pass(archiveBytes(source))) { /* hashing only */ }
        read = again;
      } catch {
        read = { size: -1, sha256: "" };
      }
    }
    const mismatch = read.size >= 0 ? digestMismatch(source.digest, read) : undefined;
    if (mismatch) {
      check.digestMismatch = mismatch;
      check.problems.unshift({ archive, message: mismatch });
    }
  }
  if (opts.sink) {
    if (check.problems.length > 0) await opts.sink.abort();
    else {
      try {
        await opts.sink.end();
      } catch (err) {
        if (err instanceof DsError) throw err; // the destination failed (no space...), not the archive
        sinkFailed = true;
        problem(`extraction failed: ${(err as Error).message}`);
      }
    }
  }
  if (!sinkFailed && check.problems.length === 0 && check.entries === 0) problem("archive holds no entries");
  return check;
}

/**
 * Gaps in the transaction chain of an incremental archive: from its newest
 * transaction back through the transaction files it holds, each with its
 * object revisions, until `stopTid` (the newest transaction already restored,
 * or the reference backup's). Empty when the chain is whole.
 */
function chainProblems(check: ArchiveCheck, newestTid: string, stopTid: string): Problem[] {
  const out: Problem[] = [];
  const problem = (message: string) => out.push({ archive: check.archive, message });
  let tid = newestTid;
  while (tid !== stopTid) {
    if (tid === ZERO_TID || tid < stopTid) {
      problem(`transaction chain from ${newestTid} does not reach ${stopTid} (${formatTid(stopTid)}): it ${tid === ZERO_TID ? "ends" : `skips to ${tid}`}`);
      break;
    }
    const t = check.transactions.get(tid);
    if (!t) {
      problem(`gap: transaction ${tid} (${formatTid(tid)}) is not in the archive, so the chain does not reach ${stopTid}`);
      break;
    }
    for (const oid of t.oids) {
      if (!check.revisions.has(`${oid}.${tid}`)) problem(`transaction ${tid} wrote object ${oid}, whose revision is not in the archive`);
    }
    tid = t.previousTid;
  }
  return out;
}

/**
 * Checks of one archive against the index and its predecessor: A/x.serial
 * must hold the index entry's transaction id; with records, a full archive
 * must hold its newest transaction and an incremental one a whole chain back
 * to `previousTid` (the newest transaction restored before it; by default
 * its reference backup's, from the index).
 */
export function crossCheck(
  check: ArchiveCheck,
  archive: ArchiveName,
  entries: IndexEntry[],
  opts: { records: boolean; previousTid?: string },
): Problem[] {
  // A changed archive that still reads cleanly is checked on: what else is wrong with it helps.
  if (check.problems.some((p) => p.message !== check.digestMismatch)) return [];
  const out: Problem[] = [];
  const problem = (message: string, entry?: string) => out.push({ archive: check.archive, entry, message });
  if (check.newestTid === undefined) {
    problem("no A/x.serial: the archive's newest transaction is unknown");
    return out;
  }
  const entry = entries.find((e) => e.seq === archive.seq);
  if (entry && entry.tid !== check.newestTid) {
    problem(`A/x.serial holds ${check.newestTid}, but the index says sequence ${archive.seq} ends at ${entry.tid}`);
  }
  if (!opts.records) return out;
  if (archive.kind === "full") {
    if (check.newestTid !== ZERO_TID && !check.transactions.has(check.newestTid)) {
      problem(`the newest transaction ${check.newestTid} (${formatTid(check.newestTid)}) is not in the archive`);
    }
    return out;
  }
  const stop = opts.previousTid ?? entries.find((e) => e.seq === archive.reference)?.tid;
  if (stop !== undefined) out.push(...chainProblems(check, check.newestTid, stop));
  return out;
}

export function formatProblem(p: Problem): string {
  return `${p.archive}: ${p.entry ? `${p.entry}: ` : ""}${p.message}`;
}

export interface PlanCheckOptions {
  /** Decode every record and check the chain between archives (restore --verify). */
  records: boolean;
  signal?: AbortSignal;
  /** Where each archive's tar stream also goes (restore: the tree writer), with a report of entries it refused. */
  sinkFor?: (archive: ArchiveName, refuse: (problem: Problem) => void) => TarSink;
  onArchive?: (archive: ArchiveName) => void;
  onProgress?: (p: ArchiveProgress) => void;
  /** For the plan's NAME.tgz.age archives. */
  keys?: DecryptionKeys;
}

/**
 * Check a restore plan's archives in order, each against the index and
 * against the newest transaction of the one before it. Stops at the first
 * archive with problems: the rest of the chain would not apply anyway.
 */
export async function checkPlan(
  archives: CatalogArchive[],
  entries: IndexEntry[],
  opts: PlanCheckOptions,
): Promise<{ checks: ArchiveCheck[]; problems: Problem[] }> {
  const checks: ArchiveCheck[] = [];
  const problems: Problem[] = [];
  let previousTid: string | undefined;
  for (const archive of archives) {
    opts.onArchive?.(archive);
    const refused: Problem[] = [];
    const check = await checkArchive(archive, {
      records: opts.records,
      signal: opts.signal,
      onProgress: opts.onProgress,
      keys: opts.keys,
      expectedSize: archive.size,
      sink: opts.sinkFor?.(archive, (p) => refused.push(p)),
    });
    // The reader reports refused entries itself; anything the sink's parser saw differently is added.
    const seen = new Set(check.problems.map((p) => `${p.entry}\0${p.message}`));
    check.problems.push(...refused.filter((p) => !seen.has(`${p.entry}\0${p.message}`)));
    check.problems.push(...crossCheck(check, archive, entries, { records: opts.records, previousTid }));
    checks.push(check);
    problems.push(...check.problems);
    if (problems.length > 0) break;
    previousTid = check.newestTid;
  }
  return { checks, problems };
}
