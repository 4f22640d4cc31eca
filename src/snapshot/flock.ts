// flock(2) through bun:ffi: the only bun:ffi import in dsbackup. BSD flock
// locks are what the Python storage takes; fcntl/lockf record locks do not
// conflict with them on Linux, so nothing else would protect the storage.
import { dlopen, FFIType, read, type Pointer } from "bun:ffi";

// Identical on Linux and macOS/BSD (<sys/file.h>).
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
const EINTR_LINUX = 4;
const EWOULDBLOCK_LINUX = 11;
const EWOULDBLOCK_DARWIN = 35;

/** Shared libraries that export flock, tried in order for this platform. */
export function libcCandidates(platform: string = process.platform, arch: string = process.arch): string[] {
  if (platform === "darwin") return ["/usr/lib/libSystem.B.dylib", "libSystem.B.dylib", "libc.dylib"];
  const muslArch = arch === "arm64" ? "aarch64" : "x86_64";
  return ["libc.so.6", `libc.musl-${muslArch}.so.1`, `/lib/ld-musl-${muslArch}.so.1`, "libc.so"];
}

export function wouldBlockErrno(platform: string = process.platform): number {
  return platform === "darwin" ? EWOULDBLOCK_DARWIN : EWOULDBLOCK_LINUX;
}

interface Libc {
  flock(fd: number, op: number): number;
  errno(): number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  const errnoSymbol = process.platform === "darwin" ? "__error" : "__errno_location";
  const failures: string[] = [];
  for (const name of libcCandidates()) {
    try {
      const lib = dlopen(name, {
        flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        [errnoSymbol]: { args: [], returns: FFIType.ptr },
      });
      const errnoPtr = lib.symbols[errnoSymbol] as () => Pointer | null;
      libc = {
        flock: lib.symbols.flock as (fd: number, op: number) => number,
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

/** Try to take an exclusive flock without waiting. Throws on errors other than "held by someone else". */
export function tryLockExclusive(fd: number): FlockResult {
  const c = loadLibc();
  for (;;) {
    if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) return "locked";
    const errno = c.errno();
    if (errno === wouldBlockErrno()) return "busy";
    if (errno === EINTR_LINUX && process.platform !== "darwin") continue;
    throw new Error(`flock failed with errno ${errno}`);
  }
}

export function unlock(fd: number): void {
  loadLibc().flock(fd, LOCK_UN);
}
