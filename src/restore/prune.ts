// Pruning a backups location: delete the archives older than the N newest full
// backups that no kept restore point needs, and drop their index lines.
// The index is rewritten first, by atomic replacement, keeping its header
// and every other line; a crash between the two steps leaves archives the
// index no longer names (list reports them; a later prune deletes them once
// they are older than what it keeps), never an index naming archives that
// are gone.
import { IndexConflictError } from "../errors.ts";
import { count } from "../plural.ts";
import { PRUNED_MARK, type IndexEntry } from "../index/tindex.ts";
import type { Catalog, CatalogArchive } from "./catalog.ts";
import { pruneSelection } from "./plan.ts";

export interface PrunePlan {
  prefix: string;
  keepFull: number;
  /** The oldest full backup kept; undefined when there are not more than keepFull. */
  oldestKept?: CatalogArchive;
  remove: CatalogArchive[];
  keep: CatalogArchive[];
  /** Index entries no remaining archive (of any prefix) ends at or starts from: their lines go. */
  dropEntries: IndexEntry[];
  /** Index entries whose archives go but which a kept incremental starts from: marked, kept. */
  referenceEntries: { entry: IndexEntry; by: string }[];
  /** Old archives of this prefix kept because restore points of another prefix (their sequences) still need them. */
  keptForOthers: { archive: CatalogArchive; points: number[] }[];
}

export function planPrune(catalog: Catalog, prefix: string, keepFull: number): PrunePlan {
  const sel = pruneSelection(catalog.entries, catalog.archives, prefix, keepFull);
  const remove = sel.remove as CatalogArchive[];
  const removed = new Set(remove.map((a) => a.name));
  const left = catalog.archives.filter((a) => !removed.has(a.name));
  // A line stays while an archive ends at it, or a kept incremental starts
  // from it (verify checks that incremental's chain back to its tid).
  const ends = new Set(left.map((a) => a.seq));
  const startsFrom = new Map(left.flatMap((a) => (a.reference === undefined ? [] : [[a.reference, a.name] as const])));
  const oldestKept = sel.oldestKept as CatalogArchive | undefined;
  const older = oldestKept ? catalog.entries.filter((e) => e.seq < oldestKept.seq && !ends.has(e.seq)) : [];
  const dropEntries = older.filter((e) => !startsFrom.has(e.seq));
  // Streamed lines keep their `# stdout NAME` (their archive was never here); marked lines stay as they are.
  const referenceEntries = older
    .filter((e) => startsFrom.has(e.seq) && !e.prunedReference && e.streamedAs === undefined)
    .map((entry) => ({ entry, by: startsFrom.get(entry.seq)! }));
  const keptForOthers = sel.keptForOthers as PrunePlan["keptForOthers"];
  return { prefix, keepFull, oldestKept, remove, keep: sel.keep as CatalogArchive[], dropEntries, referenceEntries, keptForOthers };
}

/** The index changed between reading it and replacing it (another writer that took no lock): exit 11. */
export class IndexChangedError extends IndexConflictError {}

/**
 * Rewrite the index without the dropped lines (a conditional replace of the
 * version read with the catalog), then delete the archives; `onDeleted`
 * hears of each archive once it is gone.
 */
export async function applyPrune(
  catalog: Catalog,
  plan: Pick<PrunePlan, "remove" | "dropEntries" | "referenceEntries">,
  log: (m: string) => void,
  onDeleted: (a: CatalogArchive) => void,
): Promise<void> {
  if (plan.dropEntries.length > 0 || plan.referenceEntries.length > 0) {
    const text = catalog.indexText ?? "";
    const drop = new Set(plan.dropEntries.map((e) => e.line));
    const lines = text.split("\n");
    for (const { entry, by } of plan.referenceEntries) {
      lines[entry.line - 1] = `${lines[entry.line - 1]!.replace(/\s*#.*$/, "")}  # ${PRUNED_MARK}: kept as the reference of ${by}`;
    }
    const kept = lines.filter((_, i) => !drop.has(i + 1));
    try {
      await catalog.location.replaceIndex(kept.join("\n"), catalog.indexToken);
    } catch (err) {
      if (err instanceof IndexConflictError) throw new IndexChangedError(`${catalog.indexPath} changed while pruning; nothing was deleted, run prune again`, { cause: err });
      throw err;
    }
    log(`Removed ${count(plan.dropEntries.length, "line")} from ${catalog.indexPath}`);
    for (const { entry, by } of plan.referenceEntries) log(`Kept line ${entry.seq} of ${catalog.indexPath}: ${by} starts from it`);
  }
  for (const a of plan.remove) {
    await catalog.location.delete(a.name);
    onDeleted(a);
  }
}
