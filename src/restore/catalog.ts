// What a backups location holds: the index entries and the archives there,
// matched up. Shared by list, restore, verify, status and prune; read through
// the location interface, so a folder and a bucket look the same.
import { StorageError, UsageError } from "../errors.ts";
import { INDEX_OBJECT, type Location } from "../location/location.ts";
import { parseIndex, type IndexEntry } from "../index/tindex.ts";
import type { ArchiveSource } from "./archive-stream.ts";
import { parseArchiveName, type ArchiveName } from "./plan.ts";

export interface CatalogArchive extends ArchiveName, ArchiveSource {
  size: number;
}

export interface Catalog {
  location: Location;
  /** How messages name the location (a folder path, s3://BUCKET/PATH). */
  dir: string;
  indexPath: string;
  /** false when the location has no tindex (archives copied without it): entries is then empty. */
  indexExists: boolean;
  /** The index as read, and its version token (for a conditional replace). */
  indexText: string | undefined;
  indexToken: string | null;
  entries: IndexEntry[];
  /** Archives there (every prefix), by sequence then name. */
  archives: CatalogArchive[];
  /** Archives whose sequence number has no index entry. */
  unindexed: CatalogArchive[];
  /** Index entries no archive of any prefix ends at (but for streamed ones and pruned references). */
  missing: IndexEntry[];
  /** Index entries whose archive went to standard output (`--output -`) and is not in this location. */
  streamedElsewhere: IndexEntry[];
}

/** The index of a location, parsed, with its text and token. */
export async function readLocationIndex(location: Location): Promise<{ text: string | undefined; token: string | null; entries: IndexEntry[] }> {
  const snapshot = await location.readIndex();
  const entries = snapshot.content === undefined ? [] : parseIndex(snapshot.content, location.where(INDEX_OBJECT));
  return { text: snapshot.content, token: snapshot.token, entries };
}

export async function readCatalog(location: Location): Promise<Catalog> {
  const objects = await location.list();
  const index = await readLocationIndex(location);
  const entries = index.entries;
  const archives: CatalogArchive[] = [];
  for (const o of objects) {
    const parsed = parseArchiveName(o.name);
    if (!parsed) continue;
    const digest = entries.find((e) => e.seq === parsed.seq)?.digests?.find((d) => d.name === o.name);
    archives.push({ ...parsed, location, size: o.size, digest });
  }
  archives.sort((a, b) => a.seq - b.seq || (a.reference ?? 0) - (b.reference ?? 0) || (a.name < b.name ? -1 : 1));
  const seqs = new Set(entries.map((e) => e.seq));
  const ends = new Set(archives.map((a) => a.seq));
  return {
    location,
    dir: location.display,
    indexPath: location.where(INDEX_OBJECT),
    indexExists: index.text !== undefined,
    indexText: index.text,
    indexToken: index.token,
    entries,
    archives,
    unindexed: archives.filter((a) => !seqs.has(a.seq)),
    // A line prune kept because an incremental starts from it is not missing anything.
    missing: entries.filter((e) => !ends.has(e.seq) && e.streamedAs === undefined && !e.prunedReference),
    streamedElsewhere: entries.filter((e) => !ends.has(e.seq) && e.streamedAs !== undefined),
  };
}

export function prefixesOf(catalog: Catalog): string[] {
  return [...new Set(catalog.archives.map((a) => a.prefix))].sort();
}

/** The prefix to work on: the one given, else the only one in the location. */
export function choosePrefix(catalog: Catalog, prefix: string | undefined): string {
  const prefixes = prefixesOf(catalog);
  if (prefix !== undefined) {
    if (!prefixes.includes(prefix)) {
      throw new UsageError(`no archives with prefix ${JSON.stringify(prefix)} in ${catalog.dir}${prefixes.length ? ` (prefixes: ${prefixes.join(", ")})` : ""}`);
    }
    return prefix;
  }
  if (prefixes.length === 0) throw new StorageError(`no backup archives in ${catalog.dir}`);
  if (prefixes.length > 1) throw new UsageError(`${catalog.dir} holds archives of several prefixes (${prefixes.join(", ")}): choose one with --prefix`);
  return prefixes[0]!;
}
