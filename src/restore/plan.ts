// Restore planning, pure: which archives rebuild the storage as of one backup.
// Archives are known by name only (PREFIX-SEQ.tgz, PREFIX-REF-to-SEQ.tgz,
// either with .age when encrypted);
// the index gives the restore points their times and transaction ids.
import { DsError } from "../errors.ts";
import type { IndexEntry } from "../index/tindex.ts";

export interface ArchiveName {
  /** File name in the backups folder. */
  name: string;
  prefix: string;
  kind: "full" | "inc";
  /** Sequence number of the backup run that wrote it: the state it restores to. */
  seq: number;
  /** For incrementals: the reference backup it holds the changes since. */
  reference?: number;
  /** NAME.tgz.age: the .tgz encrypted with age (a folder may hold both kinds). */
  encrypted: boolean;
}

const INC_NAME = /^(.+)-(\d{1,9})-to-(\d{1,9})\.tgz(\.age)?$/;
const FULL_NAME = /^(.+)-(\d{1,9})\.tgz(\.age)?$/;

/**
 * Parse an archive file name (NAME.tgz, or NAME.tgz.age encrypted); undefined
 * for anything else (tindex, .tmp- files). `x-1-to-2.tgz` is the incremental 1-to-2 of prefix `x`, never the
 * full backup 2 of prefix `x-1-to` (backups refuse prefixes ending in -N-to,
 * so dsbackup never writes such a name).
 */
export function parseArchiveName(name: string): ArchiveName | undefined {
  if (name.startsWith(".")) return undefined;
  const inc = INC_NAME.exec(name);
  if (inc) {
    const reference = Number(inc[2]);
    const seq = Number(inc[3]);
    if (reference >= 1 && reference < seq) return { name, prefix: inc[1]!, kind: "inc", seq, reference, encrypted: inc[4] !== undefined };
    return undefined;
  }
  const full = FULL_NAME.exec(name);
  if (full && Number(full[2]) >= 1) return { name, prefix: full[1]!, kind: "full", seq: Number(full[2]), encrypted: full[3] !== undefined };
  return undefined;
}

/** Where to restore to: a sequence number, an instant (epoch seconds), or the newest point. */
export type RestorePoint = { seq: number } | { atSeconds: number } | { newest: true };

export interface RestorePlan {
  prefix: string;
  /** The index entry restored to. */
  point: IndexEntry;
  /** Archives to extract, in order: one full backup, then incrementals. */
  archives: ArchiveName[];
}

/** The point asked for cannot be restored from the archives there are. */
export class PlanError extends DsError {}

/** Order archives by the state they lead to, full before incremental, then by reference. */
function compareArchives(a: ArchiveName, b: ArchiveName): number {
  return a.seq - b.seq || (a.kind === b.kind ? (a.reference ?? 0) - (b.reference ?? 0) : a.kind === "full" ? -1 : 1);
}

/**
 * Among archives leading to the same state, the one to prefer: of the chosen
 * prefix, then by name (so plans are stable). All archives of one run hold the
 * same state, whatever their prefix.
 */
function better(a: ArchiveName, b: ArchiveName | undefined, prefer: string | undefined): boolean {
  if (!b) return true;
  if (a.seq !== b.seq) return a.seq > b.seq;
  if ((a.reference ?? 0) !== (b.reference ?? 0)) return (a.reference ?? 0) > (b.reference ?? 0);
  if ((a.prefix === prefer) !== (b.prefix === prefer)) return a.prefix === prefer;
  return a.name < b.name;
}

/**
 * The shortest chain of archives that ends at sequence `target`, over every
 * prefix: the index and the reference rule are shared by all prefixes (as in
 * the original tool), so `daily-1-to-2.tgz` continues from `weekly-1.tgz`.
 * The chain is the newest full backup at or before the target, then
 * incrementals in sequence order, each chosen as the one reaching furthest
 * (but not past `target`) among those that start at or before the last
 * restored sequence. After 8-to-10 this skips 9-to-11 and takes 10-to-12, as
 * the manual says. Furthest-first is optimal: any incremental usable from an
 * earlier state is usable from a later one, so landing later never loses a
 * way forward (and for the same reason the newest full backup is the best
 * start). Ties go to archives of `prefer` (the prefix restored).
 */
export function chainTo(archives: ArchiveName[], target: number, prefer?: string): ArchiveName[] | string {
  let full: ArchiveName | undefined;
  for (const a of archives) if (a.kind === "full" && a.seq <= target && better(a, full, prefer)) full = a;
  if (!full) return `no full backup at or before sequence ${target}`;
  const chain = [full];
  let last = full.seq;
  const incs = archives.filter((a) => a.kind === "inc" && a.seq <= target);
  while (last < target) {
    let best: ArchiveName | undefined;
    for (const a of incs) if (a.reference! <= last && a.seq > last && better(a, best, prefer)) best = a;
    if (!best) {
      return `no incremental backup continues from sequence ${last} (after ${chain.map((a) => a.name).join(", ")}) towards ${target}`;
    }
    chain.push(best);
    last = best.seq;
  }
  return chain;
}

/** Index entries that an archive of `prefix` ends at: the restore points of that prefix. */
export function restorePoints(entries: IndexEntry[], archives: ArchiveName[], prefix: string): IndexEntry[] {
  const ends = new Set(archives.filter((a) => a.prefix === prefix).map((a) => a.seq));
  return entries.filter((e) => ends.has(e.seq));
}

/** What `describeAt` needs to say which instant was asked and which times can be restored. */
export interface AtRefusal {
  atSeconds: number;
  oldest?: IndexEntry;
  newest?: IndexEntry;
}

/** --at found nothing: the instant asked and the restorable range, for the command to phrase. */
export class AtPlanError extends PlanError {
  constructor(
    message: string,
    readonly refusal: AtRefusal,
  ) {
    super(message);
  }
}

/**
 * Choose the restore point among the archives of `prefix` (they end the
 * chain) and the archives it needs (of any prefix). Throws PlanError with a
 * one-line reason.
 */
export function planRestore(entries: IndexEntry[], archives: ArchiveName[], prefix: string, point: RestorePoint): RestorePlan {
  const own = archives.filter((a) => a.prefix === prefix);
  if (own.length === 0) throw new PlanError(`no archives with prefix ${JSON.stringify(prefix)}`);
  const points = restorePoints(entries, own, prefix);
  let chosen: IndexEntry | undefined;
  if ("seq" in point) {
    chosen = entries.find((e) => e.seq === point.seq);
    if (!chosen) throw new PlanError(`sequence ${point.seq} is not in the index`);
    if (!points.includes(chosen)) throw new PlanError(`no archive with prefix ${JSON.stringify(prefix)} ends at sequence ${point.seq}`);
  } else if ("atSeconds" in point) {
    for (const e of points) if (e.timestamp <= point.atSeconds) chosen = e;
    if (!chosen) {
      throw new AtPlanError(`no backup with prefix ${JSON.stringify(prefix)} was taken at or before that time`, {
        atSeconds: point.atSeconds,
        oldest: points[0],
        newest: points.at(-1),
      });
    }
  } else {
    chosen = points.at(-1);
    if (!chosen) throw new PlanError(`no archive with prefix ${JSON.stringify(prefix)} belongs to an index entry`);
  }
  const chain = chainTo(archives, chosen.seq, prefix);
  if (typeof chain === "string") throw new PlanError(`cannot restore sequence ${chosen.seq}: ${chain}`);
  return { prefix, point: chosen, archives: chain };
}

/**
 * Pruning: the archives of one prefix to delete so that the `keepFull` newest
 * full backups, and every restore point from the oldest of them on, stay
 * restorable. The full backups counted are the prefix's own; a prefix with
 * none (daily incrementals over weekly fulls) counts those of every prefix.
 * Only the prefix's archives ending before the oldest kept full backup (or
 * incrementals ending at it) go, and never one that the chain of a kept
 * restore point, or of any restore point of another prefix, uses: chains
 * cross prefixes, and pruning one prefix never breaks another's.
 */
export function pruneSelection(
  entries: IndexEntry[],
  archives: ArchiveName[],
  prefix: string,
  keepFull: number,
): { oldestKept?: ArchiveName; remove: ArchiveName[]; keep: ArchiveName[]; keptForOthers: { archive: ArchiveName; points: number[] }[] } {
  const own = archives.filter((a) => a.prefix === prefix).sort(compareArchives);
  // Only full backups the index knows are restore points; an archive copied in
  // without its index line must never push a restorable one out.
  const indexed = new Set(entries.map((e) => e.seq));
  const indexedFulls = (as: ArchiveName[]) => as.filter((a) => a.kind === "full" && indexed.has(a.seq));
  let fulls = indexedFulls(own);
  if (fulls.length === 0) fulls = indexedFulls([...archives].sort(compareArchives));
  if (fulls.length <= keepFull) return { remove: [], keep: own, keptForOthers: [] };
  const oldestKept = fulls[fulls.length - keepFull]!;
  const needed = new Set<string>();
  /** Archives of this prefix that only other prefixes' older restore points still need, and which points. */
  const forOthers = new Map<string, number[]>();
  const others = [...new Set(archives.map((a) => a.prefix))].filter((p) => p !== prefix);
  const kept = (seq: number) => seq >= oldestKept.seq;
  for (const p of [prefix, ...others]) {
    for (const e of restorePoints(entries, archives, p)) {
      if (p === prefix && !kept(e.seq)) continue;
      const chain = chainTo(archives, e.seq, p);
      if (typeof chain === "string") continue;
      for (const a of chain) {
        if (!kept(e.seq) && a.prefix === prefix) forOthers.set(a.name, [...(forOthers.get(a.name) ?? []), e.seq]);
        needed.add(a.name);
      }
    }
  }
  // Incrementals ending at the oldest kept full backup itself are redundant with it.
  const older = (a: ArchiveName) => a.seq < oldestKept.seq || (a.seq === oldestKept.seq && a.kind === "inc");
  const remove = own.filter((a) => older(a) && !needed.has(a.name));
  const keptForOthers = own
    .filter((a) => older(a) && forOthers.has(a.name))
    .map((archive) => ({ archive, points: [...new Set(forOthers.get(archive.name))].sort((x, y) => x - y) }));
  return { oldestKept, remove, keep: own.filter((a) => !remove.includes(a)), keptForOthers };
}
