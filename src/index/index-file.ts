// backups/tindex in a folder: its name, and the flock that serialises the
// programs that rewrite it (backup, prune, rebuild-index, copy). Reading and
// replacing it go through the location (src/location/folder.ts).
import { join } from "node:path";
import { LockedError } from "../errors.ts";
import { tryLockFile, type HeldLock } from "../snapshot/lock.ts";

export const INDEX_NAME = "tindex";
/** flock'ed by every run that rewrites tindex, so no line is lost between a read and a replace. */
export const INDEX_LOCK_NAME = ".tindex.lock";

/** Take the index lock of a backups folder, or fail at once naming what holds it. */
export function lockIndex(backupsDir: string, purpose: string): HeldLock {
  const lock = tryLockFile(join(backupsDir, INDEX_LOCK_NAME));
  if (!lock) throw new LockedError(`${join(backupsDir, INDEX_NAME)} is being rewritten by another dsbackup (a backup or prune); ${purpose} not started`);
  return lock;
}
