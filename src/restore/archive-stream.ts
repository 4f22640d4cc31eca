// The one place an archive is read: its object's bytes as a stream, from
// whatever location holds it. verify, restore, rebuild-index and copy all
// read through openArchive, so a transformation of the stored bytes
// (decryption) belongs here and nowhere else.
import { createHash } from "node:crypto";
import { openArchiveBytes, type DecryptionKeys } from "../crypto/index.ts";
import type { ArchiveDigest } from "../index/tindex.ts";
import type { Location } from "../location/location.ts";

/** An archive where it is stored: the location and the object name. */
export interface ArchiveSource {
  name: string;
  location: Location;
  /** Size and sha256 recorded in the index when it was written (undefined: older archives). */
  digest?: ArchiveDigest;
}

export interface OpenedArchive {
  /** The archive's gzip stream (today the stored bytes themselves). */
  gzip: AsyncIterable<Uint8Array>;
  /** Size and sha256 of the stored bytes read so far (what the index records): complete once `gzip` has ended. */
  stored: StreamDigest;
}

/**
 * Open an archive for reading. Missing object: ObjectNotFoundError. The
 * digest is taken of the bytes as stored, before any decoding added here
 * (decryption goes between `stored` and `gzip`).
 */
export async function openArchive(archive: ArchiveSource, opts: { keys?: DecryptionKeys; expectedSize?: number } = {}): Promise<OpenedArchive> {
  const stored = new StreamDigest();
  const bytes = stored.pass(await archive.location.read(archive.name));
  // NAME.tgz.age: decrypted in the stream (a wrong or missing key throws, exit 21); others pass through.
  return { gzip: openArchiveBytes(bytes, archive.name, opts.keys, { expectedSize: opts.expectedSize }), stored };
}

/** The archive's bytes as stored (ciphertext for NAME.tgz.age), opened when first read. */
export async function* archiveBytes(archive: ArchiveSource): AsyncIterable<Uint8Array> {
  yield* await archive.location.read(archive.name);
}

/** Counts and hashes the bytes of a stream as it is consumed. */
export class StreamDigest {
  private readonly hash = createHash("sha256");
  size = 0;
  private hex: string | undefined;

  async *pass(stream: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of stream) {
      this.hash.update(chunk);
      this.size += chunk.length;
      yield chunk;
    }
  }

  get sha256(): string {
    return (this.hex ??= this.hash.digest("hex"));
  }
}

/** What is wrong with the bytes read against the recorded digest, if anything. */
export function digestMismatch(recorded: ArchiveDigest, read: { size: number; sha256: string }): string | undefined {
  if (recorded.size === read.size && recorded.sha256 === read.sha256) return undefined;
  return (
    `sha256 mismatch: the index recorded ${recorded.size} bytes with sha256 ${recorded.sha256} when it was written, ` +
    `the archive now reads as ${read.size} bytes with sha256 ${read.sha256}: it was changed or damaged`
  );
}
