// From kept restore points to kept archives and index lines. Pure: index
// entries, archive names and a chain function in; what to delete and which
// index lines to drop or mark out. A kept point keeps every archive of its
// shortest chain (whatever their prefix); so does every restorable point of
// another prefix, which this prune does not judge. Everything else of the
// pruned prefix goes, but for archives that belong to no restorable point
// and are not older than the oldest kept point (copied in, or of a damaged
// point that may yet be repaired): those are left alone.
import type { IndexEntry } from "../index/tindex.ts";
import type { ArchiveName } from "../restore/plan.ts";

/** The shortest chain restoring `prefix`'s point at `seq` (its archives, any prefix), or why there is none. */
export type ChainOf = (prefix: string, seq: number) => ArchiveName[] | string;

export interface RestorablePoint {
  entry: IndexEntry;
  chain: ArchiveName[];
}

/** The restore points of `prefix`: index entries an archive of the prefix ends at and whose chain can be built. */
export function restorablePoints(entries: IndexEntry[], archives: ArchiveName[], prefix: string, chainOf: ChainOf): RestorablePoint[] {
  const ends = new Set(archives.filter((a) => a.prefix === prefix).map((a) => a.seq));
  return entries.flatMap((entry) => {
    if (!ends.has(entry.seq)) return [];
    const chain = chainOf(prefix, entry.seq);
    return typeof chain === "string" ? [] : [{ entry, chain }];
  });
}

export interface RetentionSelection<A extends ArchiveName> {
  keep: A[];
  remove: A[];
  /** Index entries whose lines go: no remaining archive ends at or starts from them, and no kept point is there. */
  dropEntries: IndexEntry[];
  /** Index entries whose archives go but which a remaining incremental starts from: kept, marked `# pruned: kept as the reference of NAME`. */
  referenceEntries: { entry: IndexEntry; by: string }[];
  /** Points not kept whose whole chain stays anyway (other kept points need it): still restorable. */
  stillRestorable: number[];
}

export interface SelectInput<A extends ArchiveName> {
  entries: IndexEntry[];
  archives: A[];
  prefix: string;
  /** Sequence numbers of the prefix's points to keep; must be restorable points. */
  keep: Iterable<number>;
  chainOf: ChainOf;
}

/** Archives to keep and delete, index lines to drop and to mark, for the kept points of one prefix. */
export function selectArchives<A extends ArchiveName>(input: SelectInput<A>): RetentionSelection<A> {
  const { entries, archives, prefix, chainOf } = input;
  const keep = new Set(input.keep);
  const own = restorablePoints(entries, archives, prefix, chainOf);
  const ownSeqs = new Set(own.map((p) => p.entry.seq));
  for (const seq of keep) if (!ownSeqs.has(seq)) throw new RangeError(`Cannot select archives: sequence ${seq} is not a restorable point of prefix ${prefix}`);
  if (keep.size === 0 && own.length > 0) throw new RangeError("Cannot select archives: no restore point would be kept");

  const needed = new Set<string>();
  for (const p of own) if (keep.has(p.entry.seq)) for (const a of p.chain) needed.add(a.name);
  // Other prefixes' restore points are not being pruned: their chains stay whole.
  for (const other of new Set(archives.map((a) => a.prefix))) {
    if (other === prefix) continue;
    for (const p of restorablePoints(entries, archives, other, chainOf)) for (const a of p.chain) needed.add(a.name);
  }
  const oldestKept = Math.min(...keep);
  const remove = archives.filter((a) => {
    if (a.prefix !== prefix || needed.has(a.name)) return false;
    // Ends at a point this policy judged: it goes. Anything else only when older than every kept point.
    return ownSeqs.has(a.seq) || a.seq < oldestKept;
  });
  const removed = new Set(remove.map((a) => a.name));
  const left = archives.filter((a) => !removed.has(a.name));

  const endsBefore = new Set(archives.map((a) => a.seq));
  const endsAfter = new Set(left.map((a) => a.seq));
  const startsFrom = new Map<number, string>();
  for (const a of left) if (a.reference !== undefined && !startsFrom.has(a.reference)) startsFrom.set(a.reference, a.name);
  const dropEntries: IndexEntry[] = [];
  const referenceEntries: { entry: IndexEntry; by: string }[] = [];
  for (const e of entries) {
    if (keep.has(e.seq) || endsAfter.has(e.seq)) continue;
    // A line that never had an archive here (streamed, missing) is judged by age alone, as prune always did.
    const mine = endsBefore.has(e.seq) || e.seq < oldestKept;
    if (!mine) continue;
    const by = startsFrom.get(e.seq);
    if (by === undefined) dropEntries.push(e);
    else if (!e.prunedReference && e.streamedAs === undefined) referenceEntries.push({ entry: e, by });
  }
  const stillRestorable = own.filter((p) => !keep.has(p.entry.seq) && p.chain.every((a) => !removed.has(a.name))).map((p) => p.entry.seq);
  return { keep: archives.filter((a) => !removed.has(a.name)), remove, dropEntries, referenceEntries, stillRestorable };
}
