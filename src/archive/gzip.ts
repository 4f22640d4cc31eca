// One gzip member for one block of tar stream. Used inline (jobs: 1) and by
// gzip-worker.ts, the one copy of the worker's code. libdeflate (bundled with
// Bun) compresses whole buffers much faster than zlib, and compresses better at the same level number: on a
// tar stream of a generated storage (158 MB, 88,000 files) gzip -6 gives
// 25.998 MB, libdeflate 5 26.008 MB (+0.04%) in ~0.85 s of CPU, libdeflate 6
// 25.797 MB in ~1.3 s. So a gzip level N is mapped to libdeflate level N-1
// (level 1 stays 1): about the size gzip -N gives, for a lot less CPU.
// A file made of several gzip members
// is one valid gzip file (RFC 1952 §2.2); gzip, GNU tar, bsdtar and Python
// read all members.

/** libdeflate level giving about the size of gzip level `level` (1-9). */
export function libdeflateLevel(level: number): number {
  return Math.max(1, level - 1);
}

/** `level` is a libdeflate level (see libdeflateLevel). */
export function gzipBlock(data: Uint8Array, level: number): Uint8Array {
  return Bun.gzipSync(data as Uint8Array<ArrayBuffer>, {
    level: level as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9,
    library: "libdeflate",
  });
}

/** Messages between writer.ts and gzip-worker.ts. */
export interface CompressRequest {
  id: number;
  /** The block buffer; transferred to the worker and back. */
  buf: ArrayBuffer;
  len: number;
  /** libdeflate level */
  level: number;
}
export type CompressReply =
  | { id: number; buf: ArrayBuffer; out: ArrayBuffer; outOffset: number; outLength: number }
  | { id: number; buf: ArrayBuffer; error: string };
