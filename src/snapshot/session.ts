// Getting a coherent, unchanging view of A/ for the length of a run: either
// we run under the snapshot tool (SNAPSHOT_* variables), or we lock
// misc/sublock ourselves and require misc/snapshot, forcing snapshot mode
// with config/snapshot.conf when needed.
import { existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { LockedError, NotSnapshotError, UsageError } from "../errors.ts";
import type { Format } from "../storage/names.ts";
import { enterSnapshotMode } from "./enter.ts";
import { snapshotMarkerPath, sublockPath, tryLockFile, type HeldLock } from "./lock.ts";

export const MAX_SNAPSHOT_AGE_SECONDS = 12 * 3600;

export interface SnapshotHold {
  home: string;
  /** Epoch seconds shortly before the snapshot was entered; goes into the index. */
  timestamp: number;
  underSnapshotTool: boolean;
  /** Release the lock, then leave snapshot mode if we entered it. Throws DsError if leaving fails. */
  release(): Promise<void>;
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
    throw new NotSnapshotError(`--storage ${storageArg} differs from SNAPSHOT_DIRECTORY ${dir} given by the snapshot tool`);
  }
  return resolve(dir);
}

export interface HoldOptions {
  /** Epoch seconds now; read just before locking or entering snapshot mode. */
  nowSeconds: () => number;
  /** The storage's format (direct mode rolls the journal forward into it). */
  format: Format;
  /** snapshot.conf path; default HOME/config/snapshot.conf. */
  confPath?: string;
  log?: (message: string) => void;
  detail?: (message: string) => void;
  warn?: (message: string) => void;
  httpTimeoutMs?: number;
  /** The client code for enterSnapshot/leaveSnapshot; default `hostname-pid`. */
  code?: string;
  /** Checked after entering snapshot mode: on abort, leave again and throw. */
  signal?: AbortSignal;
  /** Ends the message when the storage is locked or busy: how to retry (e.g. "give --wait SECONDS"). */
  retryHint?: string;
}

/**
 * After leaving snapshot mode the storage merges B/ into A/ for a while, and
 * refuses enterSnapshot meanwhile with this fault.
 */
export function isRecombiningFault(failure: string): boolean {
  return /already in use by '?recombining\//.test(failure);
}

function busyMessage(failures: string[], retryHint: string | undefined): string {
  const state = failures.some(isRecombiningFault)
    ? "the storage is busy recombining (it merges B/ into A/ for a while after leaving snapshot mode) and refused snapshot mode for now"
    : "the storage is running and not in snapshot mode, and no method of config/snapshot.conf could force it into snapshot mode";
  return (
    state +
    (failures.length > 0 ? `: ${failures.join("; ")}` : " (configure an http line for the storage's DirectoryStorageToolkit)") +
    (retryHint ? `; ${retryHint}` : "")
  );
}

function notSnapshotMessage(home: string, directDisabled: boolean, failures: string[]): string {
  const marker = snapshotMarkerPath(home);
  // Each method's reason, as for a locked storage: "fix snapshot.conf" needs to know what failed.
  const why = failures.length > 0 ? ` (${failures.join("; ")})` : "";
  return directDisabled
    ? `${marker} does not exist and snapshot.conf disables direct access (nodirect), so the storage was not rolled forward: ` +
        `A/ is not a coherent snapshot. Either the storage is running without a working config/snapshot.conf method${why}, ` +
        "or it crashed, or it was stopped with quick_shutdown; fix snapshot.conf, or open and close the storage cleanly, then retry"
    : `${marker} does not exist: A/ is not a coherent snapshot. ` +
        "Either the storage is in use by a process that does not hold its lock, or it crashed or was stopped with quick_shutdown " +
        `and could not be rolled forward${why}; open and close it cleanly (or fix config/snapshot.conf) first`;
}

/**
 * Hold a snapshot of HOME's A/ until release(). Under the snapshot tool the
 * SNAPSHOT_* variables are checked and trusted. Otherwise misc/sublock is
 * locked and misc/snapshot required; when the lock is busy or the marker
 * missing, the methods of snapshot.conf are tried to force snapshot mode,
 * and release() leaves it again.
 */
export async function holdSnapshot(home: string, env: SnapshotEnvironment, opts: HoldOptions): Promise<SnapshotHold> {
  const { nowSeconds } = opts;
  if (env.SNAPSHOT_VERSION !== undefined) {
    const text = env.SNAPSHOT_TIMESTAMP ?? "";
    if (!/^\d+$/.test(text)) throw new NotSnapshotError(`SNAPSHOT_TIMESTAMP ${JSON.stringify(text)} is not integer epoch seconds`);
    const timestamp = Number(text);
    const now = nowSeconds();
    if (timestamp > now) throw new NotSnapshotError(`SNAPSHOT_TIMESTAMP ${timestamp} is in the future (now ${now})`);
    if (now - timestamp > MAX_SNAPSHOT_AGE_SECONDS) {
      throw new NotSnapshotError(`SNAPSHOT_TIMESTAMP ${timestamp} is more than 12 hours old`);
    }
    return { home, timestamp, underSnapshotTool: true, async release() {} };
  }
  const log = opts.log ?? (() => {});
  const timestamp = nowSeconds();
  const marker = snapshotMarkerPath(home);
  // Already a snapshot (a storage shut down cleanly, or in snapshot mode): just lock it.
  const quick = tryLockFile(sublockPath(home));
  if (quick && existsSync(marker)) {
    return { home, timestamp, underSnapshotTool: false, async release() { quick.release(); } };
  }
  quick?.release();

  const { entered, directDisabled, owedLeaves, failures } = await enterSnapshotMode(home, {
    confPath: opts.confPath ?? join(home, "config", "snapshot.conf"),
    confExplicit: opts.confPath !== undefined,
    format: opts.format,
    log,
    detail: opts.detail ?? (() => {}),
    warn: opts.warn ?? (() => {}),
    httpTimeoutMs: opts.httpTimeoutMs,
    code: opts.code,
  });
  const leave = async () => {
    for (const owed of owedLeaves) await owed();
    if (entered) await entered.leave();
  };
  let lock: HeldLock | null = entered?.sublock ?? null;
  try {
    lock ??= tryLockFile(sublockPath(home));
    if (!lock) throw new LockedError(`${sublockPath(home)} is locked by another process; ${busyMessage(failures, opts.retryHint)}`);
    if (!existsSync(marker)) throw new NotSnapshotError(notSnapshotMessage(home, directDisabled, failures));
    if (opts.signal?.aborted) throw opts.signal.reason;
  } catch (err) {
    // Every way out after entering snapshot mode leaves it again. If leaving
    // fails too, that is the error (the storage is stuck); the first is a warning.
    lock?.release();
    try {
      await leave();
    } catch (leaveErr) {
      opts.warn?.((err as Error)?.message ?? String(err));
      throw leaveErr;
    }
    throw err;
  }
  const held = lock;
  if (entered) log("Locked snapshot mode");
  return {
    home,
    timestamp,
    underSnapshotTool: false,
    async release() {
      held.release();
      if (entered) log("Unlocked snapshot mode");
      await leave();
    },
  };
}
