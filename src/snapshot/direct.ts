// Rolling a stopped storage forward ("direct" mode): what the storage itself
// does when it is opened and closed cleanly. Files already flushed to B/
// during an earlier snapshot go back to A/ (they are older than anything in
// the journal), then committed journal transactions (`working_<TID>_done`)
// are moved into A/ in name order, incomplete ones (`_temp`) are deleted, the
// touched directories are fsynced, and misc/snapshot is written.
//
// Everything is checked before the first rename: a strange name in journal/,
// a `journal/replica.tar`, an unknown file in a transaction, a symlink, or
// folders on different file systems stop with an error and change nothing.
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { StorageError, fileError } from "../errors.ts";
import { fsyncDirectory, writeFileAtomic } from "../fsutil/atomic.ts";
import { databasePath, type Format } from "../storage/names.ts";
import { snapshotMarkerPath } from "./lock.ts";

/** What direct mode writes into misc/snapshot, as the storage writes its client's code there. */
export const DIRECT_SNAPSHOT_CODE = "dsbackup-direct";

const TRANSACTION_FOLDER = /^working_([0-9A-F]{16})_(temp|done)$/;
/** Flat database names a transaction may write. */
const TRANSACTION_FILE = /^(o[0-9A-F]{16}\.([0-9A-F]{16}|c)|t[0-9A-F]{6}\.[0-9A-F]{10}|x\.serial|x\.oid)$/;

export interface RollForwardPlan {
  /** Relative paths of files in B/, to be moved to the same path in A/. */
  fromB: string[];
  /** Committed transaction folders in name order, each with its flat file names. */
  done: { folder: string; tid: string; files: string[] }[];
  /** Incomplete transaction folders, to be deleted. */
  temp: string[];
}

export interface RollForwardReport {
  transactions: number;
  files: number;
  discarded: number;
}

function refuse(home: string, detail: string): StorageError {
  return new StorageError(`Cannot roll the storage ${home} forward: ${detail}; nothing was changed`);
}

function lstatChecked(path: string): Stats {
  try {
    return lstatSync(path);
  } catch (err) {
    throw fileError("stat", path, err);
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw fileError("stat", path, err);
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch (err) {
    throw fileError("list", path, err);
  }
}

/** Every regular file under B/ (relative paths); anything but files and folders is refused. */
function filesUnder(home: string, root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of listDir(rel ? join(root, rel) : root)) {
    const sub = rel ? `${rel}/${name}` : name;
    const st = lstatChecked(join(root, sub));
    if (st.isDirectory()) out.push(...filesUnder(home, root, sub));
    else if (st.isFile()) out.push(sub);
    else throw refuse(home, `B/${sub} is not a regular file`);
  }
  return out;
}

/** Read-only inspection: what rollForward would do, or a StorageError saying why it must not. */
export function planRollForward(home: string, format: Format): RollForwardPlan {
  const A = join(home, "A");
  const B = join(home, "B");
  const journal = join(home, "journal");
  const aStat = lstatOrNull(A);
  if (!aStat?.isDirectory()) throw refuse(home, "A/ is missing");
  const plan: RollForwardPlan = { fromB: [], done: [], temp: [] };
  const sameFileSystem = (path: string, st: Stats) => {
    if (st.dev !== aStat.dev) throw refuse(home, `${path} is not on the same file system as A/`);
  };

  const bStat = lstatOrNull(B);
  if (bStat) {
    if (!bStat.isDirectory()) throw refuse(home, "B is not a directory");
    sameFileSystem("B/", bStat);
    plan.fromB = filesUnder(home, B);
  }

  const jStat = lstatOrNull(journal);
  if (jStat) {
    if (!jStat.isDirectory()) throw refuse(home, "journal is not a directory");
    sameFileSystem("journal/", jStat);
    for (const name of listDir(journal)) {
      if (name === "replica.tar") throw refuse(home, "journal/replica.tar exists (it belongs to replication)");
      const m = TRANSACTION_FOLDER.exec(name);
      const st = lstatChecked(join(journal, name));
      if (!m || !st.isDirectory()) throw refuse(home, `unexpected ${st.isDirectory() ? "folder" : "file"} journal/${name}`);
      if (m[2] === "temp") {
        plan.temp.push(name);
        continue;
      }
      const files = listDir(join(journal, name));
      for (const file of files) {
        const fst = lstatChecked(join(journal, name, file));
        if (!fst.isFile() || !TRANSACTION_FILE.test(file)) {
          throw refuse(home, `unexpected ${fst.isDirectory() ? "folder" : "entry"} journal/${name}/${file} in a committed transaction`);
        }
      }
      plan.done.push({ folder: name, tid: m[1]!, files });
    }
  }
  // Targets that are folders would make a rename fail half-way: refuse now.
  const targets = [...plan.fromB, ...plan.done.flatMap((t) => t.files.map((f) => databasePath(format, f)))];
  for (const rel of targets) {
    if (lstatOrNull(join(A, rel))?.isDirectory()) throw refuse(home, `A/${rel} is a folder`);
  }
  return plan;
}

function move(from: string, to: string, touched: Set<string>): void {
  const dir = dirname(to);
  if (!touched.has(dir)) {
    // New folders must reach the disk too: fsync each created folder's parent.
    let created: string | undefined;
    try {
      created = mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw fileError("create folder", dir, err);
    }
    if (created) {
      for (let d = dir; d.length >= created.length; d = dirname(d)) touched.add(dirname(d));
    }
    touched.add(dir);
  }
  try {
    renameSync(from, to);
  } catch (err) {
    throw fileError("move", `${from} to ${to}`, err);
  }
}

/**
 * Roll HOME forward and write misc/snapshot. The caller holds misc/lock and
 * misc/sublock. Safe to run again after a crash half-way: every step is a
 * rename of something still present, applied in the same order.
 */
export function rollForward(home: string, format: Format): RollForwardReport {
  const plan = planRollForward(home, format);
  const A = join(home, "A");
  const B = join(home, "B");
  const journal = join(home, "journal");
  const touched = new Set<string>();
  let files = 0;
  for (const rel of plan.fromB) {
    move(join(B, rel), join(A, rel), touched);
    files++;
  }
  // Leave B/ empty: remove the folders the moved files lived in.
  if (plan.fromB.length > 0) touched.add(B);
  const bFolders = lstatOrNull(B) ? listDir(B).filter((n) => lstatChecked(join(B, n)).isDirectory()) : [];
  for (const dir of bFolders) removeTree(join(B, dir), B, touched);
  // B/ holds older transactions than the journal: they must be in A/ for
  // good before a journal file may replace one of them.
  flush(touched);
  for (const t of plan.done) {
    const folder = join(journal, t.folder);
    for (const file of t.files) {
      move(join(folder, file), join(A, databasePath(format, file)), touched);
      files++;
    }
    flush(touched); // this transaction is in A/ before its (now empty) folder goes
    removeTree(folder, journal, touched);
  }
  for (const name of plan.temp) removeTree(join(journal, name), journal, touched);
  flush(touched);
  // The storage writes the code of whoever holds snapshot mode there; say who did.
  writeFileAtomic(snapshotMarkerPath(home), DIRECT_SNAPSHOT_CODE, 0o644);
  return { transactions: plan.done.length, files, discarded: plan.temp.length };
}

/** fsync the touched folders, deepest first, and forget them. */
function flush(dirs: Set<string>): void {
  for (const dir of [...dirs].sort().reverse()) fsyncDirectory(dir);
  dirs.clear();
}

function removeTree(path: string, parent: string, touched: Set<string>): void {
  try {
    rmSync(path, { recursive: true });
  } catch (err) {
    throw fileError("remove", path, err);
  }
  touched.add(parent);
}
