// What a backups folder holds: the index entries and the archives on disk,
// matched up. Shared by list, restore, verify and prune.
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StorageError, UsageError, fileError } from "../errors.ts";
import { INDEX_NAME, readIndex } from "../index/index-file.ts";
import type { IndexEntry } from "../index/tindex.ts";
import { parseArchiveName, type ArchiveName } from "./plan.ts";

export interface CatalogArchive extends ArchiveName {
  path: string;
  size: number;
}

export interface Catalog {
  dir: string;
  indexPath: string;
  /** false when the folder has no tindex (archives copied without it): entries is then empty. */
  indexExists: boolean;
  entries: IndexEntry[];
  /** Archives on disk (every prefix), by sequence then name. */
  archives: CatalogArchive[];
  /** Archives whose sequence number has no index entry. */
  unindexed: CatalogArchive[];
  /** Index entries no archive of any prefix ends at (but for streamed ones and pruned references). */
  missing: IndexEntry[];
  /** Index entries whose archive went to standard output (`--output -`) and is not in this folder. */
  streamedElsewhere: IndexEntry[];
}

/** The names in a backups folder; a missing folder or a file is StorageError (exit 10). */
export function readBackupsFolder(dir: string): string[] {
  try {
    if (!statSync(dir).isDirectory()) throw new StorageError(`${dir} is not a directory`);
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new StorageError(`${dir}: no such backups folder`);
    throw fileError("read directory", dir, err);
  }
}

export function readCatalog(dirArg: string): Catalog {
  const dir = resolve(dirArg);
  const names = readBackupsFolder(dir);
  const entries = readIndex(dir);
  const archives: CatalogArchive[] = [];
  for (const name of names.sort()) {
    const parsed = parseArchiveName(name);
    if (!parsed) continue;
    const path = join(dir, name);
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) continue;
      size = st.size;
    } catch (err) {
      throw fileError("stat", path, err);
    }
    archives.push({ ...parsed, path, size });
  }
  archives.sort((a, b) => a.seq - b.seq || (a.reference ?? 0) - (b.reference ?? 0) || (a.name < b.name ? -1 : 1));
  const seqs = new Set(entries.map((e) => e.seq));
  const ends = new Set(archives.map((a) => a.seq));
  return {
    dir,
    indexPath: join(dir, INDEX_NAME),
    indexExists: names.includes(INDEX_NAME),
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

/** The prefix to work on: the one given, else the only one in the folder. */
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
