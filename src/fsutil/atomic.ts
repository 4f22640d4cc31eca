// Durable writes: everything goes to a temporary name in the destination
// folder, is fsynced, then renamed; the folder is fsynced after the rename.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { hostname } from "node:os";
import { fileError } from "../errors.ts";
import { fullFsync, syncFileSystem } from "./flock.ts";

/** Prefix of every temporary file dsbackup creates; the rest names its owner. */
export const TEMP_PREFIX = ".tmp-";

export function tempNameFor(finalPath: string): string {
  return join(dirname(finalPath), `${TEMP_PREFIX}${hostname()}-${process.pid}-${basename(finalPath)}`);
}

/**
 * The owner and final name of a temporary file created on this host by
 * tempNameFor, or undefined for any other name (another host's, or not ours).
 */
export function parseOwnTempName(name: string, host: string = hostname()): { pid: number; finalName: string } | undefined {
  const prefix = `${TEMP_PREFIX}${host}-`;
  if (!name.startsWith(prefix)) return undefined;
  const m = /^([1-9]\d{0,9})-(.+)$/.exec(name.slice(prefix.length));
  if (!m) return undefined;
  return { pid: Number(m[1]), finalName: m[2]! };
}

/** Whether a process with this pid exists on this host (kill(pid, 0); EPERM means it exists). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * This host's temporary files among `names` whose process is gone (called
 * before this process makes any, so its own pid means an earlier process).
 */
export function deadOwnTemps(names: string[], alive: (pid: number) => boolean = processAlive): { name: string; pid: number; finalName: string }[] {
  const found = [];
  for (const name of [...names].sort()) {
    const owner = parseOwnTempName(name);
    if (owner && (owner.pid === process.pid || !alive(owner.pid))) found.push({ name, ...owner });
  }
  return found;
}

/**
 * Make what was written to fd durable. On macOS fsync(2) leaves the data in
 * the drive's cache, so fcntl(F_FULLFSYNC) is used there (src/platform.ts
 * decides); elsewhere, or where the file system refuses it, plain fsync.
 */
export function syncDurably(fd: number): void {
  if (!fullFsync(fd)) fsyncSync(fd);
}

/**
 * Flush the whole file system holding `path` in one call where the platform
 * can (Linux syncfs). False where it cannot: the caller fsyncs file by file.
 */
export function syncFileSystemOf(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    return syncFileSystem(fd);
  } catch (err) {
    throw fileError("sync the file system of", path, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    syncDurably(fd);
  } catch (err) {
    throw fileError("fsync", dir, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface TempFile {
  readonly fd: number;
  readonly tempPath: string;
  readonly finalPath: string;
  /** fsync and close, still under the temporary name. */
  seal(): void;
  /** Rename to the final name and fsync the folder. Call seal() first. */
  commit(): void;
  /** Close (if open) and remove the temporary file; never throws. */
  discard(): void;
}

export function createTempFile(finalPath: string, mode = 0o640): TempFile {
  const tempPath = tempNameFor(finalPath);
  let fd: number;
  try {
    fd = openSync(tempPath, "wx", mode);
  } catch (err) {
    throw fileError("create", tempPath, err);
  }
  let open = true;
  let committed = false;
  return {
    fd,
    tempPath,
    finalPath,
    seal() {
      try {
        syncDurably(fd);
      } catch (err) {
        throw fileError("fsync", tempPath, err);
      }
      closeSync(fd);
      open = false;
    },
    commit() {
      try {
        renameSync(tempPath, finalPath);
      } catch (err) {
        throw fileError("rename", tempPath, err);
      }
      committed = true;
      fsyncDirectory(dirname(finalPath));
    },
    discard() {
      if (open) {
        try { closeSync(fd); } catch { /* already closed */ }
        open = false;
      }
      if (!committed) {
        try { unlinkSync(tempPath); } catch { /* nothing to remove */ }
      }
    },
  };
}

export function writeAll(fd: number, data: Uint8Array, path: string): void {
  let off = 0;
  try {
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  } catch (err) {
    throw fileError("write", path, err);
  }
}

/** Replace a small file atomically with new content. */
export function writeFileAtomic(finalPath: string, content: Uint8Array | string, mode = 0o640): void {
  const temp = createTempFile(finalPath, mode);
  try {
    writeAll(temp.fd, typeof content === "string" ? new TextEncoder().encode(content) : content, finalPath);
    temp.seal();
    temp.commit();
  } finally {
    temp.discard();
  }
}
