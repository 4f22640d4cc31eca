// flock(2) and fcntl(F_FULLFSYNC) through bun:ffi: the only bun:ffi import in
// dsbackup. BSD flock locks are what the Python storage takes; fcntl/lockf
// record locks do not conflict with them on Linux, so nothing else would
// protect the storage. Which library, which errno accessor and which numbers
// is decided by src/platform.ts; this file only calls.
import { dlopen, FFIType, read, type Pointer } from "bun:ffi";
import { platformFacts, type PlatformFacts } from "../platform.ts";

interface Libc {
  readonly facts: PlatformFacts;
  flock(fd: number, op: number): number;
  /** Null where the platform needs no fcntl (fullFsyncCommand is null). */
  fcntl: ((fd: number, cmd: number) => number) | null;
  /** Null where the platform has no syncfs (hasSyncfs is false). */
  syncfs: ((fd: number) => number) | null;
  errno(): number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  const facts = platformFacts();
  const errnoSymbol = facts.errnoSymbol;
  const failures: string[] = [];
  for (const name of facts.libcCandidates) {
    try {
      // fcntl is variadic in C. Only the two fixed arguments are declared:
      // F_FULLFSYNC takes no third one, and declaring a variadic argument as
      // a fixed one would pass it in the wrong place on Apple arm64.
      const lib = dlopen(name, {
        flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        fcntl: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        [errnoSymbol]: { args: [], returns: FFIType.ptr },
      });
      const errnoPtr = lib.symbols[errnoSymbol] as () => Pointer | null;
      const syncfs = facts.hasSyncfs
        ? (dlopen(name, { syncfs: { args: [FFIType.i32], returns: FFIType.i32 } }).symbols.syncfs as (fd: number) => number)
        : null;
      libc = {
        facts,
        flock: lib.symbols.flock as (fd: number, op: number) => number,
        fcntl: facts.fullFsyncCommand === null ? null : (lib.symbols.fcntl as (fd: number, cmd: number) => number),
        syncfs,
        errno: () => {
          const ptr = errnoPtr();
          return ptr ? read.i32(ptr, 0) : -1;
        },
      };
      return libc;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`Cannot load flock from the C library (${failures.join("; ")})`);
}

export type FlockResult = "locked" | "busy";

/** Extra tries when flock fails with an errno that is neither EWOULDBLOCK nor EINTR. */
const FLOCK_RETRIES = 3;

/** Try to take an exclusive flock without waiting. Throws on errors other than "held by someone else". */
export function tryLockExclusive(fd: number): FlockResult {
  return tryLockWith(loadLibc(), fd);
}

/**
 * The loop of tryLockExclusive over any flock/errno pair (tests pass fakes).
 *
 * errno is read by a second FFI call after flock returned, and whatever the
 * runtime does in between (a signal handler, the GC, a JIT stub calling into
 * libc) may overwrite it: a "busy" (EWOULDBLOCK, exit 11) would then read as
 * a strange failure (exit 1). A C shim returning both is not possible in a
 * cross-compiled executable. So a failure with any other errno is tried
 * again a few times, and one EWOULDBLOCK among the answers means busy; a
 * real error (EBADF, ENOLCK) says the same every time and is reported.
 */
export function tryLockWith(c: Pick<Libc, "facts" | "flock" | "errno">, fd: number): FlockResult {
  const { LOCK_EX, LOCK_NB } = c.facts.flock;
  let strange = 0;
  for (;;) {
    if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) return "locked";
    const errno = c.errno();
    if (errno === c.facts.errno.EWOULDBLOCK) return "busy";
    if (errno === c.facts.errno.EINTR) continue;
    if (++strange > FLOCK_RETRIES) throw new Error(`flock failed with errno ${errno}`);
  }
}

export function unlock(fd: number): void {
  const c = loadLibc();
  c.flock(fd, c.facts.flock.LOCK_UN);
}

/**
 * Flush fd's data through the drive's write cache where fsync(2) does not
 * (macOS: fcntl F_FULLFSYNC). Returns false where the platform needs nothing
 * more than fsync, or the file system refuses the command (some network and
 * FUSE file systems): the caller then falls back to fsync, as SQLite does.
 */
export function fullFsync(fd: number): boolean {
  const facts = platformFacts();
  if (facts.fullFsyncCommand === null) return false;
  const c = loadLibc();
  return c.fcntl !== null && c.fcntl(fd, facts.fullFsyncCommand) !== -1;
}

/**
 * Flush the whole file system holding fd (Linux syncfs(2)). Returns false
 * where there is no syncfs; throws with the errno where it fails (an I/O error
 * writing back the data means the data is not safe).
 */
export function syncFileSystem(fd: number): boolean {
  if (!platformFacts().hasSyncfs) return false;
  const c = loadLibc();
  if (c.syncfs === null) return false;
  if (c.syncfs(fd) === 0) return true;
  throw new Error(`syncfs failed with errno ${c.errno()}`);
}
