// Everything that differs between the systems dsbackup runs on, as plain data
// chosen by (platform, arch). Pure: no I/O and no bun:ffi here, so every
// branch (macOS and FreeBSD included) is unit-tested on Linux. flock.ts and
// fsutil/atomic.ts act on these facts.
//
// Sources of the numbers:
//   flock operations: Linux <asm-generic/fcntl.h> / glibc <bits/fcntl.h> and
//     musl <fcntl.h>; XNU and FreeBSD <sys/fcntl.h>: LOCK_SH 1, LOCK_EX 2,
//     LOCK_NB 4, LOCK_UN 8 on all of them (BSD 4.2's flock(2) numbering).
//   errno: Linux <asm-generic/errno-base.h> EINTR 4, EAGAIN (= EWOULDBLOCK) 11;
//     XNU and FreeBSD <sys/errno.h> EINTR 4, EAGAIN (= EWOULDBLOCK) 35.
//   F_FULLFSYNC: XNU <sys/fcntl.h>, 51.

/** The systems dsbackup is built for (process.platform values). */
export type Os = "linux" | "darwin" | "freebsd";

export interface PlatformFacts {
  readonly os: Os;
  /**
   * Shared libraries that export flock, fcntl and the errno accessor, tried
   * in order with dlopen. On Linux "libc.so.6" comes first and is right for
   * musl too: musl's loader answers any name "libc.*" with itself (the
   * reserved names in ldso/dynlink.c), so a musl process never maps glibc.
   * The musl names follow for loaders that do not do that.
   */
  readonly libcCandidates: readonly string[];
  /** Function returning a pointer to the calling thread's errno. */
  readonly errnoSymbol: "__errno_location" | "__error";
  /** errno values dsbackup reacts to. */
  readonly errno: { readonly EINTR: number; readonly EWOULDBLOCK: number };
  /** flock(2) operations. */
  readonly flock: { readonly LOCK_SH: number; readonly LOCK_EX: number; readonly LOCK_NB: number; readonly LOCK_UN: number };
  /**
   * fcntl command that makes a file's (or folder's) data durable when
   * fsync(2) alone does not, or null where fsync is enough. On macOS fsync
   * only hands the data to the drive, whose write cache may lose it on power
   * failure; F_FULLFSYNC also flushes that cache (Apple's fsync(2) page).
   */
  readonly fullFsyncCommand: number | null;
  /**
   * syncfs(2) exists: one call flushes every dirty file and folder of one
   * file system. Restore uses it instead of an fsync per file (a restored
   * storage can hold millions); elsewhere each file is fsynced.
   */
  readonly hasSyncfs: boolean;
}

export class UnsupportedPlatformError extends Error {
  constructor(platform: string, arch: string) {
    super(`dsbackup does not support ${platform}-${arch}`);
    this.name = "UnsupportedPlatformError";
  }
}

const FLOCK = { LOCK_SH: 1, LOCK_EX: 2, LOCK_NB: 4, LOCK_UN: 8 } as const;

/** The machine name musl uses in its file names. */
function muslArch(arch: string): string {
  if (arch === "x64") return "x86_64";
  if (arch === "arm64") return "aarch64";
  throw new UnsupportedPlatformError("linux", arch);
}

export function platformFacts(platform: string = process.platform, arch: string = process.arch): PlatformFacts {
  if (arch !== "x64" && arch !== "arm64") throw new UnsupportedPlatformError(platform, arch);
  switch (platform) {
    case "linux": {
      const m = muslArch(arch);
      return {
        os: "linux",
        libcCandidates: ["libc.so.6", `libc.musl-${m}.so.1`, `/lib/ld-musl-${m}.so.1`],
        errnoSymbol: "__errno_location",
        errno: { EINTR: 4, EWOULDBLOCK: 11 },
        flock: FLOCK,
        fullFsyncCommand: null,
        hasSyncfs: true,
      };
    }
    case "darwin":
      return {
        os: "darwin",
        // libSystem re-exports libc; libc.dylib is an older alias for it.
        libcCandidates: ["/usr/lib/libSystem.B.dylib", "libSystem.B.dylib", "/usr/lib/libc.dylib"],
        errnoSymbol: "__error",
        errno: { EINTR: 4, EWOULDBLOCK: 35 },
        flock: FLOCK,
        fullFsyncCommand: 51,
        hasSyncfs: false,
      };
    case "freebsd":
      return {
        os: "freebsd",
        libcCandidates: ["libc.so.7", "/lib/libc.so.7"],
        errnoSymbol: "__error",
        errno: { EINTR: 4, EWOULDBLOCK: 35 },
        flock: FLOCK,
        fullFsyncCommand: null,
        hasSyncfs: false,
      };
    default:
      throw new UnsupportedPlatformError(platform, arch);
  }
}

/** One release build: the Bun target it is compiled with and the file it becomes. */
export interface ReleaseTarget {
  readonly os: Os;
  readonly arch: "x64" | "arm64";
  readonly libc: "glibc" | "musl" | "system";
  /** `bun build --compile --target=` value. */
  readonly bunTarget: string;
  /** File name in dist/. */
  readonly file: string;
}

function release(os: Os, arch: "x64" | "arm64", libc: ReleaseTarget["libc"]): ReleaseTarget {
  const suffix = libc === "musl" ? "-musl" : "";
  return { os, arch, libc, bunTarget: `bun-${os}-${arch}${suffix}`, file: `dsbackup-${os}-${arch}${suffix}` };
}

/**
 * The release matrix. x64 builds need no "-baseline" variant: with Bun 1.4.5
 * the baseline runtime is the same build as the default one (same ELF build
 * id), so the default already runs on pre-AVX2 CPUs. The FreeBSD target is
 * produced by Bun but not listed in its documentation, and is untested.
 */
export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  release("linux", "x64", "glibc"),
  release("linux", "arm64", "glibc"),
  release("linux", "x64", "musl"),
  release("linux", "arm64", "musl"),
  release("darwin", "x64", "system"),
  release("darwin", "arm64", "system"),
  release("freebsd", "x64", "system"),
];
