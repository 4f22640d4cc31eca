// backups/tindex on disk: reading it, appending a line by atomic replacement,
// and the lock that serialises the programs that rewrite it (backup, prune).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileError, LockedError } from "../errors.ts";
import { writeFileAtomic } from "../fsutil/atomic.ts";
import { tryLockFile, type HeldLock } from "../snapshot/lock.ts";
import { INDEX_HEADER, parseIndex, type IndexEntry } from "./tindex.ts";

export const INDEX_NAME = "tindex";
/** flock'ed by every run that rewrites tindex, so no line is lost between a read and a replace. */
export const INDEX_LOCK_NAME = ".tindex.lock";

export function readIndex(backupsDir: string): IndexEntry[] {
  const path = join(backupsDir, INDEX_NAME);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw fileError("read", path, err);
  }
  return parseIndex(text, path);
}

/** Append one line to backups/tindex by atomic replacement (created with its header if new). */
export function appendIndexLine(backupsDir: string, line: string): void {
  const path = join(backupsDir, INDEX_NAME);
  let existing = INDEX_HEADER;
  try {
    existing = readFileSync(path, "utf8");
    if (existing !== "" && !existing.endsWith("\n")) existing += "\n";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw fileError("read", path, err);
  }
  writeFileAtomic(path, existing + line, 0o640);
}

/** Take the index lock of a backups folder, or fail at once naming what holds it. */
export function lockIndex(backupsDir: string, purpose: string): HeldLock {
  const lock = tryLockFile(join(backupsDir, INDEX_LOCK_NAME));
  if (!lock) throw new LockedError(`${join(backupsDir, INDEX_NAME)} is being rewritten by another dsbackup (a backup or prune); ${purpose} not started`);
  return lock;
}
