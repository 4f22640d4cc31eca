// Typed errors and the one exit-code table. Core code throws these; only
// src/cli.ts turns them into a message and an exit status.

export const ExitCode = {
  ok: 0,
  /** Operation failed: I/O error, corrupt input, verify found problems. */
  failure: 1,
  /** Bad command line: unknown option, missing argument, bad time string for inc. */
  usage: 2,
  /** The directory is not a usable storage (no A/, no backups/, bad config/settings). */
  notStorage: 10,
  /** The storage is locked by another process (flock on misc/sublock or misc/lock). */
  locked: 11,
  /** Not in snapshot mode: misc/snapshot missing, or SNAPSHOT_* environment refused. */
  notSnapshot: 12,
  /** The backup cannot be made as asked: no reference backup, packed since it, index corrupt. */
  refused: 13,
  /** Ran out of disk space while writing. */
  noSpace: 14,
  /** status --max-age: the newest restorable point is older than allowed, or there is none. */
  tooOld: 15,
  /** `--output - inc WHEN` with nothing changed: no archive on standard output, no index line. */
  nothingWritten: 16,
  /** The S3 server refused the credentials (wrong key or secret, access denied). */
  s3Credentials: 17,
  /** The S3 bucket of the location does not exist. */
  s3NoBucket: 18,
  /** The S3 endpoint cannot be reached (connection refused, unknown host). */
  s3Unreachable: 19,
  /** An S3 call got no answer within DSBACKUP_S3_TIMEOUT_MS. */
  s3Timeout: 20,
  /** An encrypted archive: no identity or passphrase given opens it. */
  noKey: 21,
  /** dsbackup snapshot: COMMAND exists but could not be run. */
  commandNotExecutable: 126,
  /** dsbackup snapshot: COMMAND not found. */
  commandNotFound: 127,
  /** Interrupted by SIGINT/SIGTERM; nothing was committed. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Human descriptions, printed by --help (EXIT STATUS) and the README. */
export const exitCodeDescriptions: [number, string][] = [
  [ExitCode.ok, "success: everything asked for was done"],
  [ExitCode.failure, "failure: I/O error, corrupt or missing file, verify or restore found problems, point not restorable"],
  [ExitCode.usage, "usage error: bad option, argument or time string"],
  [ExitCode.notStorage, "not a usable storage: no A/ or backups/, bad config/settings; a journal direct mode will not roll forward"],
  [ExitCode.locked, "storage locked by another process"],
  [ExitCode.notSnapshot, "storage not in snapshot mode, or SNAPSHOT_* environment refused"],
  [ExitCode.refused, "backup refused: no reference backup, packed since reference, bad index; rebuild-index: a tindex exists (--force)"],
  [ExitCode.noSpace, "no space left on device; nothing was committed"],
  [ExitCode.tooOld, "status --max-age: the newest restorable point is older than DURATION, or there is none"],
  [ExitCode.nothingWritten, "--output -: nothing changed since the reference backup; nothing was written to standard output"],
  [ExitCode.s3Credentials, "S3 credentials refused (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"],
  [ExitCode.s3NoBucket, "S3 bucket does not exist"],
  [ExitCode.s3Unreachable, "S3 endpoint unreachable (connection refused, unknown host)"],
  [ExitCode.s3Timeout, "S3 server did not answer within DSBACKUP_S3_TIMEOUT_MS"],
  [ExitCode.noKey, "wrong or missing key: no identity or passphrase given opens the encrypted archive"],
  [ExitCode.commandNotExecutable, "snapshot: COMMAND could not be run (permission denied)"],
  [ExitCode.commandNotFound, "snapshot: COMMAND not found"],
  [ExitCode.interrupted, "interrupted; nothing was committed"],
];

export class DsError extends Error {
  readonly exitCode: number = ExitCode.failure;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class UsageError extends DsError {
  override readonly exitCode = ExitCode.usage;
}

export class StorageError extends DsError {
  override readonly exitCode = ExitCode.notStorage;
}

export class LockedError extends DsError {
  override readonly exitCode = ExitCode.locked;
}

export class NotSnapshotError extends DsError {
  override readonly exitCode = ExitCode.notSnapshot;
}

export class BackupRefusedError extends DsError {
  override readonly exitCode = ExitCode.refused;
}

/** `--output -` had nothing to write: standard output got zero bytes, which is no archive. */
export class NothingWrittenError extends DsError {
  override readonly exitCode = ExitCode.nothingWritten;
}

/** The index was changed by another writer since it was read; nothing of ours was lost, this run did not commit. */
export class IndexConflictError extends DsError {
  override readonly exitCode = ExitCode.locked;
}

/** An object named in a location does not exist there. */
export class ObjectNotFoundError extends DsError {
  constructor(
    readonly location: string,
    readonly name: string,
  ) {
    super(`${location}: ${name} does not exist`);
  }
}

/** An S3 call failed (after its retries); the message names the location and the operation. */
export class S3Error extends DsError {}

export class S3CredentialsError extends S3Error {
  override readonly exitCode = ExitCode.s3Credentials;
}

export class S3NoBucketError extends S3Error {
  override readonly exitCode = ExitCode.s3NoBucket;
}

export class S3UnreachableError extends S3Error {
  override readonly exitCode = ExitCode.s3Unreachable;
}

export class S3TimeoutError extends S3Error {
  override readonly exitCode = ExitCode.s3Timeout;
}

export class InterruptedError extends DsError {
  override readonly exitCode = ExitCode.interrupted;
}

/** Checks found problems (verify, restore), each already reported with its archive and entry. */
export class ProblemsFoundError extends DsError {}

/** A record file (transaction, object revision, pointer) that does not decode. */
export class CorruptRecordError extends DsError {
  constructor(
    readonly path: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`${path}: corrupt record at byte ${offset}: ${detail}`);
  }
}

/** A file system operation failed on a named path. */
export class FileError extends DsError {
  override readonly exitCode: number;
  constructor(
    readonly operation: string,
    readonly path: string,
    readonly cause: NodeJS.ErrnoException,
  ) {
    super(`Cannot ${operation} ${path}: ${describeErrno(cause)}`, { cause });
    this.exitCode = cause.code === "ENOSPC" || cause.code === "EDQUOT" ? ExitCode.noSpace : ExitCode.failure;
  }
}

/** An error restated with more context (what it means for the run), keeping its exit status. */
export class ContextError extends DsError {
  override readonly exitCode: number;
  constructor(message: string, cause: DsError) {
    super(message, { cause });
    this.exitCode = cause.exitCode;
  }
}

export function describeErrno(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ENOENT": return "no such file or directory";
    case "EACCES": case "EPERM": return "permission denied";
    case "ENOSPC": return "no space left on device";
    case "EDQUOT": return "disk quota exceeded";
    case "EISDIR": return "is a directory";
    case "ENOTDIR": return "not a directory";
    case "EIO": return "input/output error";
    case "EROFS": return "read-only file system";
    case "ELOOP": return "is a symbolic link (not followed)";
    case "EEXIST": return "already exists";
    case "EMFILE": case "ENFILE": return "too many open files";
    case "ENAMETOOLONG": return "file name too long";
    default: return err.code ? `${err.code}` : String(err.message ?? err);
  }
}

/** Wrap a raw errno error from fs with the operation and path it concerns. */
export function fileError(operation: string, path: string, err: unknown): DsError {
  if (err instanceof DsError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === "object" && "code" in e) return new FileError(operation, path, e);
  return new DsError(`Cannot ${operation} ${path}: ${String((e as Error)?.message ?? e)}`, { cause: err });
}
