// The values the completion scripts cannot know by themselves, read from a
// backups folder: archive name prefixes (--prefix, backup's prefix NAME),
// restore points (--seq) and archive names (--skip, verify's ARCHIVE).
// Pure over a catalog; `dsbackup __complete` prints them.
import { kindLabel } from "../commands/backups-folder.ts";
import { prefixesOf, type Catalog } from "../restore/catalog.ts";
import { restorePoints } from "../restore/plan.ts";

export const VALUE_KINDS = ["prefix", "seq", "archive"] as const;
export type ValueKindName = (typeof VALUE_KINDS)[number];

export interface Candidate {
  value: string;
  /** Shown beside the value by zsh and fish. */
  description: string;
}

/**
 * The candidates of `kind`, limited to `prefix` when given. `showTime`
 * renders a snapshot time (epoch seconds) as the operator's clock does.
 */
export function completionCandidates(catalog: Catalog, kind: ValueKindName, prefix: string | undefined, showTime: (epochSeconds: number) => string): Candidate[] {
  const prefixes = prefix === undefined ? prefixesOf(catalog) : [prefix];
  switch (kind) {
    case "prefix":
      return prefixesOf(catalog).map((p) => {
        const n = catalog.archives.filter((a) => a.prefix === p).length;
        return { value: p, description: `${n} archive${n === 1 ? "" : "s"}` };
      });
    case "seq": {
      // Newest first: the restore point wanted is most often a recent one.
      const points = new Map<number, number>();
      for (const p of prefixes) for (const e of restorePoints(catalog.entries, catalog.archives, p)) points.set(e.seq, e.timestamp);
      return [...points].sort((a, b) => b[0] - a[0]).map(([seq, timestamp]) => ({ value: String(seq), description: showTime(timestamp) }));
    }
    case "archive":
      return catalog.archives.filter((a) => prefixes.includes(a.prefix)).map((a) => ({ value: a.name, description: kindLabel(a) }));
  }
}

/** `VALUE<TAB>DESCRIPTION` lines, as the scripts read them. */
export function formatCandidates(candidates: readonly Candidate[]): string {
  return candidates.map((c) => `${c.value}\t${c.description}\n`).join("");
}
