// Getting a coherent, unchanging view of A/ for the length of a run: either
// we run under the snapshot tool (SNAPSHOT_* variables), or we lock
// misc/sublock ourselves and require misc/snapshot.
import { existsSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { NotSnapshotError, UsageError } from "../errors.ts";
import { lockFile, snapshotMarkerPath, sublockPath } from "./lock.ts";

export const MAX_SNAPSHOT_AGE_SECONDS = 12 * 3600;

export interface SnapshotHold {
  home: string;
  /** Epoch seconds shortly before the snapshot was entered; goes into the index. */
  timestamp: number;
  underSnapshotTool: boolean;
  release(): void;
}

export interface SnapshotEnvironment {
  SNAPSHOT_VERSION?: string;
  SNAPSHOT_DIRECTORY?: string;
  SNAPSHOT_TIMESTAMP?: string;
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/** The storage home named by --storage or by the snapshot tool's environment. */
export function resolveHome(storageArg: string | undefined, env: SnapshotEnvironment): string {
  if (env.SNAPSHOT_VERSION === undefined) {
    if (storageArg === undefined) throw new UsageError("--storage DIR is required (or run under dsbackup snapshot)");
    if (storageArg === "") throw new UsageError("--storage needs a directory, not an empty string");
    return resolve(storageArg);
  }
  if (env.SNAPSHOT_VERSION !== "2") {
    throw new NotSnapshotError(`Unsupported SNAPSHOT_VERSION ${JSON.stringify(env.SNAPSHOT_VERSION)} (expected 2)`);
  }
  const dir = env.SNAPSHOT_DIRECTORY;
  if (!dir) throw new NotSnapshotError("SNAPSHOT_VERSION is set but SNAPSHOT_DIRECTORY is not");
  if (storageArg !== undefined && !samePath(storageArg, dir)) {
    throw new UsageError(`--storage ${storageArg} differs from SNAPSHOT_DIRECTORY ${dir} given by the snapshot tool`);
  }
  return resolve(dir);
}

/**
 * Hold a snapshot of HOME's A/ until release(). `nowSeconds` is read just
 * before locking, so the index never claims a time after the view was fixed.
 */
export function holdSnapshot(home: string, env: SnapshotEnvironment, nowSeconds: () => number): SnapshotHold {
  if (env.SNAPSHOT_VERSION !== undefined) {
    const text = env.SNAPSHOT_TIMESTAMP ?? "";
    if (!/^\d+$/.test(text)) throw new NotSnapshotError(`SNAPSHOT_TIMESTAMP ${JSON.stringify(text)} is not integer epoch seconds`);
    const timestamp = Number(text);
    const now = nowSeconds();
    if (timestamp > now) throw new NotSnapshotError(`SNAPSHOT_TIMESTAMP ${timestamp} is in the future (now ${now})`);
    if (now - timestamp > MAX_SNAPSHOT_AGE_SECONDS) {
      throw new NotSnapshotError(`SNAPSHOT_TIMESTAMP ${timestamp} is more than 12 hours old`);
    }
    return { home, timestamp, underSnapshotTool: true, release() {} };
  }
  const timestamp = nowSeconds();
  const lock = lockFile(
    sublockPath(home),
    "the storage is running and not in snapshot mode; run the backup under `dsbackup snapshot`, or configure config/snapshot.conf",
  );
  if (!existsSync(snapshotMarkerPath(home))) {
    lock.release();
    throw new NotSnapshotError(
      `${snapshotMarkerPath(home)} does not exist: A/ is not a coherent snapshot. ` +
        "Either the storage is in use by a process that does not hold its lock, or it crashed or was stopped with quick_shutdown; " +
        "open and close it cleanly (or use `dsbackup snapshot`) first",
    );
  }
  return { home, timestamp, underSnapshotTool: false, release: () => lock.release() };
}
