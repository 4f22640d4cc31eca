// What goes into each kind of archive, as a lazy sequence of archive entries
// in a fixed order. Full: a sorted walk; incremental: the transaction chain.
import { readdirSync, lstatSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { join } from "node:path";
import { DsError, fileError } from "../errors.ts";
import type { ArchiveEntry } from "../archive/writer.ts";
import { walkTransactions } from "../storage/chain.ts";
import type { Storage } from "../storage/home.ts";
import { pointerName, revisionName, transactionName } from "../storage/names.ts";

export class UnsupportedFileError extends DsError {}

function sortedDir(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    throw fileError("read directory", path, err);
  }
}

/**
 * Regular files below `dir` in sorted depth-first order. Symbolic links and
 * special files are refused: DirectoryStorage never makes them, and following
 * one could leave the storage. One generator with its own stack: nested
 * `yield*` would pass every file up through each folder level (nine in a
 * bushy storage), which cost a third of the walk.
 */
function* walkFiles(dir: string, archiveDir: string, skip: (name: string) => boolean): Generator<ArchiveEntry> {
  const stack = [{ path: dir, name: archiveDir, entries: sortedDir(dir), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.entries.length) {
      stack.pop();
      continue;
    }
    const dirent = top.entries[top.next++]!;
    const path = `${top.path}/${dirent.name}`;
    const name = `${top.name}/${dirent.name}`;
    if (dirent.isDirectory()) stack.push({ path, name, entries: sortedDir(path), next: 0 });
    else if (dirent.isFile()) {
      if (!skip(dirent.name)) yield { kind: "file", name, sourcePath: path };
    } else {
      const what = dirent.isSymbolicLink() ? "a symbolic link" : "not a regular file";
      throw new UnsupportedFileError(`${path} is ${what}; DirectoryStorage files are regular files, refusing to back it up`);
    }
  }
}

function lstatChecked(path: string): Stats {
  try {
    return lstatSync(path);
  } catch (err) {
    throw fileError("stat", path, err);
  }
}

/**
 * The folder a top-level name stands for, or null for anything else. A
 * symbolic link to a folder (backups -> /mnt/backups, A -> /data/A) stands
 * for the folder it points to, inside HOME or not: its entry gets that
 * folder's mode, owner and time, as if the folder were there. (Below A/ and
 * config/ links stay refused.)
 */
function topLevelFolder(dirent: Dirent, path: string): string | null {
  if (dirent.isDirectory()) return path;
  if (dirent.isFile()) return null;
  if (!dirent.isSymbolicLink()) {
    // File systems that do not report the type in the listing.
    const st = lstatChecked(path);
    if (!st.isSymbolicLink()) return st.isDirectory() ? path : null;
  }
  let target: string;
  try {
    target = realpathSync(path);
    return statSync(target).isDirectory() ? target : null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return null; // a dangling link
    throw fileError("follow the symbolic link", path, err);
  }
}

export interface FullEntriesOptions {
  warn: (message: string) => void;
}

/**
 * Top-level folders (and symbolic links to folders) as bare directories,
 * every file in config/, every file in A/ but *-deleted.
 */
export function* fullBackupEntries(storage: Storage, opts: FullEntriesOptions): Generator<ArchiveEntry> {
  for (const dirent of sortedDir(storage.home)) {
    const path = join(storage.home, dirent.name);
    const folder = topLevelFolder(dirent, path);
    if (folder !== null) yield { kind: "directory", name: dirent.name, sourcePath: folder };
    else opts.warn(`${path}: not a directory, left out of the backup`);
  }
  yield* walkFiles(join(storage.home, "config"), "config", () => false);
  yield* walkFiles(join(storage.home, "A"), "A", (name) => name.endsWith("-deleted"));
}

/**
 * Files changed since `referenceTid`: x.serial, x.oid, then for each
 * transaction from `newestTid` back to the reference its transaction file,
 * the object revisions it wrote and (once per oid) their current pointers.
 */
export function* incrementalBackupEntries(storage: Storage, newestTid: string, referenceTid: string): Generator<ArchiveEntry> {
  const file = (flat: string): ArchiveEntry => ({ kind: "file", name: storage.archiveNameOf(flat), sourcePath: storage.pathOf(flat) });
  yield file("x.serial");
  yield file("x.oid");
  const pointersListed = new Set<string>();
  for (const transaction of walkTransactions(storage, newestTid, referenceTid)) {
    yield file(transactionName(transaction.tid));
    for (const oid of transaction.oids) {
      yield file(revisionName(oid, transaction.tid));
      if (!pointersListed.has(oid)) {
        pointersListed.add(oid);
        yield file(pointerName(oid));
      }
    }
  }
}
