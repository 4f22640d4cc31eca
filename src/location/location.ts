// Where backups live: one interface with two implementations, a folder
// (folder.ts) and an S3 bucket (s3.ts). Commands above it never ask which
// one they have (restic's Backend is the model).
import { createHash, type Hash } from "node:crypto";
import { UsageError } from "../errors.ts";
import type { IndexEntry } from "../index/tindex.ts";

/** One object (file) directly under the location. */
export interface ObjectInfo {
  name: string;
  size: number;
}

/** What a writer wrote: the client sends no checksum, so callers record these. */
export interface WrittenObject {
  name: string;
  size: number;
  /** Lowercase hex sha256 of the bytes written. */
  sha256: string;
}

/**
 * A streaming write of one object in two phases, so that a run can make all
 * its objects durable, then commit its index, then make them visible:
 * seal() makes the bytes durable (folder: fsync under the temporary name;
 * S3: complete the multipart upload, which also makes it visible), commit()
 * puts it under its name (folder: rename; S3: nothing left to do). Also a
 * ByteSink for writeArchive.
 */
export interface ObjectWriter {
  /** For messages: where the object will be (path or s3://BUCKET/PATH/NAME). */
  readonly label: string;
  /** Resolves when more may be written (back-pressure); rejects with a typed error. */
  write(chunk: Uint8Array): Promise<void>;
  /** Make what was written durable and final in content; returns its size and sha256. After a rejection abort() is still due. */
  seal(): Promise<WrittenObject>;
  /** Make the object appear under its name (seals first if not sealed). */
  commit(): Promise<WrittenObject>;
  /** Remove what was written so far, also after seal(); never throws. A no-op after commit(). */
  abort(): Promise<void>;
}

/** The index as read: its text and a token that changes whenever it is replaced. */
export interface IndexSnapshot {
  /** undefined: there is no index yet. */
  content: string | undefined;
  /** null: no index (the next replace creates it only if still none). */
  token: string | null;
}

export interface LockInfo {
  host: string;
  pid: number;
  /** Epoch milliseconds the holder started. */
  startedAt: number;
}

export interface LocationLock {
  readonly info: LockInfo;
  /** Tell other machines the holder is alive (S3: rewrite the lock object; folder: nothing, the kernel knows). */
  refresh(): Promise<void>;
  /** Never throws; the location is free afterwards (unless another run took the lock over). */
  release(): Promise<void>;
}

export interface LockOptions {
  /** What the lock is for, named in the refusal ("backup", "prune"). */
  purpose: string;
  /** A lock not refreshed for this long is taken over (S3). Default 15 minutes. */
  leaseMs?: number;
  /** Refresh automatically this often while held (S3). Default leaseMs / 3; 0: never. */
  refreshEveryMs?: number;
  /** Told about a takeover of a stale lock and about failed refreshes. */
  warn: (message: string) => void;
}

/** A write that did not finish (killed run): a dead process's temp file, an S3 multipart upload. */
export interface IncompleteWrite {
  /** The object name it would have had. */
  name: string;
  /** What identifies it to abortIncompleteWrites (temp file name, upload id). */
  id: string;
  /** Epoch milliseconds it was started, where known. */
  startedAt?: number;
}

export interface ReadRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, exclusive; default: to the end. */
  end?: number;
}

export const DEFAULT_LEASE_MS = 15 * 60_000;
export const INDEX_OBJECT = "tindex";
export const LOCK_OBJECT = ".tindex.lock";

export interface Location {
  /** How messages name it: the folder path, or s3://BUCKET/PATH. Never holds a secret. */
  readonly display: string;
  /** Objects directly under the location (not in sub-folders), sorted by name. */
  list(): Promise<ObjectInfo[]>;
  /** Stat one object; undefined if missing. */
  stat(name: string): Promise<ObjectInfo | undefined>;
  /** The object's bytes (or a range of them) as a stream. Missing object: ObjectNotFoundError. */
  read(name: string, range?: ReadRange): Promise<AsyncIterable<Uint8Array>>;
  /** Start writing an object; it appears only on commit(). `signal` aborts the write. */
  write(name: string, opts?: { signal?: AbortSignal }): Promise<ObjectWriter>;
  /** Remove an object; a missing one is no error. */
  delete(name: string): Promise<void>;
  /** Read the index (tindex) with its version token. */
  readIndex(): Promise<IndexSnapshot>;
  /**
   * Replace the index with `content` if it is still the version `token`
   * names (null: only if there is none). Else IndexConflictError (exit 11).
   * Returns the new token.
   */
  replaceIndex(content: string, token: string | null): Promise<string>;
  /** One writer per location: LockedError (exit 11) naming the holder if another run has it. */
  lock(opts: LockOptions): Promise<LocationLock>;
  /** Writes a killed run left behind (never this process's own open writes). */
  listIncompleteWrites(): Promise<IncompleteWrite[]>;
  /** Remove them; returns how many were removed. */
  abortIncompleteWrites(writes: IncompleteWrite[]): Promise<number>;
  /**
   * Before listIncompleteWrites: finish a killed run's writes that were
   * sealed and whose sequence the index already has, so they
   * are not aborted (folder: rename the temporary file, backup/stale.ts; S3:
   * nothing, a sealed upload is already complete). Each action is reported.
   */
  completeCommittedWrites(index: IndexEntry[], report: (message: string) => void): Promise<void>;
  /** How messages name an object under it: a path, or s3://BUCKET/PATH/NAME. */
  where(name: string): string;
  /** A bucket: fail with the missing-bucket or credentials error before anything else (a folder has none). */
  checkBucket?(): Promise<void>;
}

export type ParsedLocation = { kind: "folder"; path: string } | { kind: "s3"; bucket: string; prefix: string };

/**
 * `DIR` or `s3://BUCKET/PATH`. The S3 prefix is returned without leading or
 * trailing slash ("" for the bucket's top level).
 */
export function parseLocation(text: string): ParsedLocation {
  if (text === "") throw new UsageError("a backups location is empty: give a folder or s3://BUCKET/PATH");
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(text);
  if (!m) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new UsageError(`${text}: unknown location scheme; give a folder or s3://BUCKET/PATH`);
    return { kind: "folder", path: text };
  }
  const bucket = m[1]!;
  // S3 bucket naming rules (lowercase, digits, dots, hyphens; 3 to 63).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(`${text}: "${bucket}" is not a valid S3 bucket name (3 to 63 lowercase letters, digits, dots, hyphens)`);
  }
  const prefix = (m[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix.split("/").some((part) => part === "." || part === "..")) {
    throw new UsageError(`${text}: the path must not contain . or .. segments`);
  }
  if (prefix.includes("//")) throw new UsageError(`${text}: the path has an empty segment (//)`);
  return { kind: "s3", bucket, prefix };
}

/** Counts and hashes what passes through a writer (both implementations use it). */
export class WriteDigest {
  private readonly hash: Hash = createHash("sha256");
  size = 0;
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  finish(name: string): WrittenObject {
    return { name, size: this.size, sha256: this.hash.digest("hex") };
  }
}

/** Object names must be plain names: the location's top level holds them all. */
export function checkObjectName(location: string, name: string): void {
  if (name === "" || name.includes("/") || name === "." || name === ".." || name.includes("\0")) {
    throw new UsageError(`${location}: "${name}" is not a plain object name`);
  }
}

/** A small object's text (the index's companions: statistics, records); undefined if missing. */
export async function readSmallObject(location: Location, name: string): Promise<string | undefined> {
  if (!(await location.stat(name))) return undefined;
  const parts: Uint8Array[] = [];
  for await (const chunk of await location.read(name)) parts.push(chunk);
  return Buffer.concat(parts).toString("utf8");
}

/** Replace a small object with `text` (it appears whole: written, sealed, committed). */
export async function writeSmallObject(location: Location, name: string, text: string): Promise<void> {
  const w = await location.write(name);
  try {
    await w.write(new TextEncoder().encode(text));
    await w.commit();
  } finally {
    await w.abort();
  }
}
