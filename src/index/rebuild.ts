// When only the archives survive (a tape or bucket copy without tindex):
// write a new index from them. Each archive's name gives its sequence and
// reference; its A/x.serial the newest transaction id; the snapshot time is
// not recorded anywhere else, so the best known stand-in is that
// transaction's time, said in a comment on each line. A reference whose own
// archives are gone gets its tid from the incremental's transaction chain.
import { checkArchiveKeys, NO_KEYS, type DecryptionKeys } from "../crypto/index.ts";
import { BackupRefusedError, StorageError } from "../errors.ts";
import { settleLeftovers } from "../location/leftovers.ts";
import { INDEX_OBJECT, writeSmallObject, type Location } from "../location/location.ts";
import { archiveBytes } from "../restore/archive-stream.ts";
import { count } from "../plural.ts";
import { parseArchiveName, type ArchiveName } from "../restore/plan.ts";
import type { ArchiveProgress } from "../restore/progress.ts";
import { checkArchive, formatProblem, type ArchiveCheck, type Problem } from "../restore/verify.ts";
import { dateFromTid, ZERO_TID } from "../storage/records.ts";
import { formatIndexLine, INDEX_HEADER, parseIndex, PRUNED_MARK, type IndexEntry } from "./tindex.ts";

/** A tindex exists and --force was not given (exit 13, like the backup refusals about the index). */
export class IndexExistsError extends BackupRefusedError {}

export interface RebuildOptions {
  location: Location;
  /** Replace an existing tindex, keeping it as tindex.old-TIMESTAMP. */
  force: boolean;
  now: Date;
  signal?: AbortSignal;
  onArchive?: (archive: ArchiveName) => void;
  onProgress?: (p: ArchiveProgress) => void;
  /** For NAME.tgz.age archives: without the key none can be read (exit 21, before any is). */
  keys?: DecryptionKeys;
  /** Told about a killed run's leftovers removed, a lock taken over. */
  warn: (message: string) => void;
}

export interface RebuiltLine {
  seq: number;
  timestamp: number;
  tid: string;
  /** The archive the line was learnt from. */
  from: string;
  /** The line of a reference whose archives are gone (tid from `from`'s chain). */
  referenceOnly: boolean;
  text: string;
}

export interface RebuildReport {
  indexPath: string;
  /** Where the replaced index was kept (with --force). */
  oldIndexPath?: string;
  lines: RebuiltLine[];
  /** Archives that could not be read, or that disagree with another of their run: left out. */
  problems: Problem[];
}

/** "20261120T101500Z": the replaced index's suffix. */
function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** The epoch second of a transaction id (0 for an empty storage's zero tid). */
function tidSeconds(tid: string): number {
  return tid === ZERO_TID ? 0 : Math.max(0, Math.floor(dateFromTid(tid).getTime() / 1000));
}

/** The transaction an incremental starts from: the previous tid of its oldest transaction (undefined if unknown). */
function startTid(check: ArchiveCheck): string | undefined {
  if (check.newestTid === undefined) return undefined;
  let tid = check.newestTid;
  for (let guard = 0; check.transactions.has(tid) && guard <= check.transactions.size; guard++) tid = check.transactions.get(tid)!.previousTid;
  return tid === check.newestTid ? undefined : tid;
}

export async function rebuildIndex(opts: RebuildOptions): Promise<RebuildReport> {
  const location = opts.location;
  const dir = location.display;
  const indexPath = location.where(INDEX_OBJECT);
  const lock = await location.lock({ purpose: "rebuild-index", warn: opts.warn });
  try {
    const old = await location.readIndex();
    if (old.content !== undefined && !opts.force) {
      throw new IndexExistsError(`${indexPath} exists; rebuild-index --force replaces it (keeping it as ${INDEX_OBJECT}.old-TIMESTAMP)`);
    }
    // A damaged index cannot say which leftovers it commits: leave them then.
    let committed: IndexEntry[] | undefined = [];
    try {
      committed = old.content === undefined ? [] : parseIndex(old.content, indexPath);
    } catch {
      committed = undefined;
    }
    if (committed) await settleLeftovers(location, committed, opts.warn);
    const objects = await location.list();
    const archives = objects
      .map((o) => parseArchiveName(o.name))
      .filter((a): a is ArchiveName => a !== undefined)
      .sort((a, b) => a.seq - b.seq || (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "full" ? -1 : 1));
    if (archives.length === 0) throw new StorageError(`no backup archives in ${dir}: nothing to rebuild the index from`);

    const problems: Problem[] = [];
    const keys = opts.keys ?? NO_KEYS;
    // A missing key fails the whole rebuild at once, rather than after hours of reading.
    const keyProblem = await checkArchiveKeys(archives, keys, (a) => archiveBytes({ name: a.name, location }));
    const unreadable = new Set<string>();
    if (keyProblem) {
      problems.push({ ...keyProblem, message: `${keyProblem.message}; left out` });
      unreadable.add(keyProblem.archive);
    }
    const bySeq = new Map<number, { tid: string; from: string }>();
    const starts: { archive: ArchiveName; tid: string }[] = [];
    for (const archive of archives) {
      if (unreadable.has(archive.name)) continue;
      opts.onArchive?.(archive);
      // Incrementals are small: decode their records too, for the start of their chain.
      const check = await checkArchive({ name: archive.name, location }, { records: archive.kind === "inc", signal: opts.signal, onProgress: opts.onProgress, keys });
      if (check.problems.length > 0) {
        problems.push(...check.problems);
        continue;
      }
      if (check.newestTid === undefined) {
        problems.push({ archive: archive.name, message: "no A/x.serial: its newest transaction is unknown; left out" });
        continue;
      }
      const known = bySeq.get(archive.seq);
      if (known && known.tid !== check.newestTid) {
        problems.push({ archive: archive.name, message: `A/x.serial holds ${check.newestTid}, but ${known.from} of the same run holds ${known.tid}; left out` });
        continue;
      }
      if (!known) bySeq.set(archive.seq, { tid: check.newestTid, from: archive.name });
      const start = archive.kind === "inc" ? startTid(check) : undefined;
      if (start !== undefined) starts.push({ archive, tid: start });
    }

    const lines: RebuiltLine[] = [];
    for (const [seq, { tid, from }] of bySeq) {
      const text = formatIndexLine(seq, tidSeconds(tid), tid, `rebuilt: time of the newest transaction in ${from}, not the snapshot time`);
      lines.push({ seq, timestamp: tidSeconds(tid), tid, from, referenceOnly: false, text });
    }
    // References whose archives are gone (pruned): their line lets verify check the incremental's chain.
    for (const { archive, tid } of starts) {
      const ref = archive.reference!;
      if (bySeq.has(ref) || lines.some((l) => l.seq === ref)) continue;
      const comment = `${PRUNED_MARK}: kept as the reference of ${archive.name}; rebuilt from its transaction chain`;
      lines.push({ seq: ref, timestamp: tidSeconds(tid), tid, from: archive.name, referenceOnly: true, text: formatIndexLine(ref, tidSeconds(tid), tid, comment) });
    }
    lines.sort((a, b) => a.seq - b.seq);
    if (lines.length === 0) {
      throw new StorageError(`none of the ${count(archives.length, "archive")} in ${dir} could be read (${problems.map(formatProblem).join("; ")}); no index written`);
    }

    const header =
      INDEX_HEADER +
      `# Rebuilt by dsbackup rebuild-index at ${opts.now.toISOString()} from the archives:\n` +
      "# snapshot times are each backup's newest transaction time (the real ones were not recorded).\n";
    let oldIndexPath: string | undefined;
    if (old.content !== undefined) {
      // The old index is kept as an object of its own before tindex is replaced.
      let name = `${INDEX_OBJECT}.old-${stamp(opts.now)}`;
      for (let n = 1; await location.stat(name); n++) name = `${INDEX_OBJECT}.old-${stamp(opts.now)}-${n}`;
      await writeSmallObject(location, name, old.content);
      oldIndexPath = location.where(name);
    }
    await location.replaceIndex(header + lines.map((l) => l.text).join(""), old.token);
    return { indexPath, oldIndexPath, lines, problems };
  } finally {
    await lock.release();
  }
}
