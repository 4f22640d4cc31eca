// Locks on a storage's misc/ files. A lock is an open descriptor plus an
// flock; the kernel drops it if the process dies, so a crash never leaves a
// storage locked.
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { LockedError, fileError } from "../errors.ts";
import { tryLockExclusive, unlock } from "../fsutil/flock.ts";

export interface HeldLock {
  readonly path: string;
  release(): void;
}

/** Take an exclusive non-blocking flock on HOME/misc/NAME, created if missing. Null if held elsewhere. */
export function tryLockFile(path: string): HeldLock | null {
  let fd: number;
  try {
    fd = openSync(path, "a", 0o644);
  } catch (err) {
    throw fileError("open lock file", path, err);
  }
  let result;
  try {
    result = tryLockExclusive(fd);
  } catch (err) {
    closeSync(fd);
    throw fileError("lock", path, err);
  }
  if (result === "busy") {
    closeSync(fd);
    return null;
  }
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      try { unlock(fd); } finally { closeSync(fd); }
    },
  };
}

export function lockFile(path: string, whatHoldsIt: string): HeldLock {
  const lock = tryLockFile(path);
  if (!lock) throw new LockedError(`${path} is locked by another process (${whatHoldsIt})`);
  return lock;
}

export function sublockPath(home: string): string {
  return join(home, "misc", "sublock");
}

export function mainLockPath(home: string): string {
  return join(home, "misc", "lock");
}

export function snapshotMarkerPath(home: string): string {
  return join(home, "misc", "snapshot");
}
