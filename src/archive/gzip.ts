// One gzip member for one block of tar stream. Used inline (jobs: 1) and by
// gzip-worker.ts. libdeflate (bundled with Bun) is ~1.8x faster than zlib at
// the same level, and at level 6 its output on tar streams of small pickle
// files is smaller than GNU `gzip -6`'s. A file made of several gzip members
// is one valid gzip file (RFC 1952 §2.2); gzip, GNU tar, bsdtar and Python
// read all members.

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
  level: number;
}
export type CompressReply =
  | { id: number; buf: ArrayBuffer; out: ArrayBuffer; outOffset: number; outLength: number }
  | { id: number; buf: ArrayBuffer; error: string };
