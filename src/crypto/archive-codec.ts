// Archives as age files, at the two seams where archive bytes pass: what the
// archive writer writes into (encryptingSink: ciphertext out, nothing else)
// and where an archive is read (openArchiveBytes: plaintext out). An
// encrypted archive is NAME.tgz.age, exactly what `age -e` makes of NAME.tgz.
import type { ByteSink } from "../archive/writer.ts";
import { randomBytes } from "node:crypto";
import { AgeNoIdentityError } from "./age-errors.ts";
import { buildHeader } from "./age-file-key.ts";
import type { DecryptionKeys, EncryptionKey } from "./age-keys.ts";
import { checkAgeKey, decryptStream } from "./age-stream.ts";
import type { ByteSource } from "./byte-source.ts";
import { Rechunker } from "./rechunk.ts";
import { CHUNK, PAYLOAD_NONCE, SEALED_CHUNK, payloadKey, sealChunk } from "./stream-cipher.ts";

/** What an encrypted archive's name ends with: `backup-7.tgz.age`. */
export const AGE_SUFFIX = ".age";

export function isEncryptedName(name: string): boolean {
  return name.endsWith(`.tgz${AGE_SUFFIX}`);
}

/** No identity and no passphrase: reading a plain archive needs none. */
export const NO_KEYS: DecryptionKeys = { identities: [], passphrases: [] };

export interface EncryptingSink extends ByteSink {
  /** Seal and write the final chunk; the age file is complete when it resolves. */
  end(): Promise<void>;
  /** Ciphertext bytes written to the inner sink so far (header and nonce included). */
  readonly bytesWritten: number;
}

/**
 * A sink that encrypts everything written to it as one age v1 file and
 * writes only ciphertext to `inner`, one write at a time: each write resolves
 * when `inner` took its ciphertext (back-pressure passes through). The header
 * (for a passphrase: scrypt, about a second off the main thread) is started
 * at once and written before the first chunk.
 */
export function encryptingSink(key: EncryptionKey, inner: ByteSink): EncryptingSink {
  const started = buildHeader(key).then(({ header, fileKey }) => {
    const nonce = new Uint8Array(randomBytes(PAYLOAD_NONCE));
    const out = new Uint8Array(header.length + PAYLOAD_NONCE);
    out.set(header);
    out.set(nonce, header.length);
    return { head: out, key: payloadKey(fileKey, nonce) };
  });
  started.catch(() => {}); // awaited by the first write or end(); no unhandled rejection before
  const chunks = new Rechunker(CHUNK);
  let counter = 0;
  let headWritten = false;
  let ended = false;
  let written = 0;
  const put = async (bytes: Uint8Array) => {
    await inner.write(bytes);
    written += bytes.length;
  };
  const head = async () => {
    const { head: bytes, key: payload } = await started;
    if (!headWritten) {
      headWritten = true;
      await put(bytes);
    }
    return payload;
  };
  return {
    label: inner.label,
    get bytesWritten() {
      return written;
    },
    async write(piece) {
      if (ended) throw new TypeError("encryptingSink: write after end");
      const payload = await head();
      const n = chunks.ready(piece.length);
      if (n === 0) return void chunks.push(piece, () => {});
      const out = new Uint8Array(n * SEALED_CHUNK);
      let at = 0;
      chunks.push(piece, (chunk) => {
        sealChunk(payload, counter++, false, chunk, out.subarray(at, at + SEALED_CHUNK));
        at += SEALED_CHUNK;
      });
      await put(out);
    },
    async end() {
      if (ended) return;
      ended = true;
      const payload = await head();
      await put(sealChunk(payload, counter, true, chunks.rest()));
    },
  };
}

export interface OpenArchiveOptions {
  /** The stored object's size (index or listing): a shorter one is reported as truncated. */
  expectedSize?: number;
}

/**
 * The plaintext (.tgz bytes) of the archive `name` whose stored bytes are
 * `source`: decrypted in the stream when the name ends .tgz.age, as is
 * otherwise. Errors name the archive; a wrong or missing key is
 * AgeNoIdentityError (exit 21) on the first read, before any plaintext.
 */
export function openArchiveBytes(source: ByteSource, name: string, keys: DecryptionKeys = NO_KEYS, options: OpenArchiveOptions = {}): AsyncIterable<Uint8Array> {
  if (!isEncryptedName(name)) return source as AsyncIterable<Uint8Array>;
  return decryptStream(keys, source, { label: name, expectedSize: options.expectedSize });
}

/**
 * Open the header of every encrypted archive of `archives` with `keys`
 * (a few hundred bytes each): a restore calls it before it creates anything,
 * so a wrong or missing key (thrown, exit 21) costs nothing. A damaged
 * header is returned as that archive's problem.
 */
export async function checkArchiveKeys<A extends { name: string }>(
  archives: A[],
  keys: DecryptionKeys,
  open: (archive: A) => ByteSource,
): Promise<{ archive: string; message: string } | undefined> {
  for (const a of archives) {
    if (!isEncryptedName(a.name)) continue;
    try {
      await checkAgeKey(keys, open(a), a.name);
    } catch (err) {
      if (err instanceof AgeNoIdentityError) throw err;
      return { archive: a.name, message: withoutLabel(err, a.name) };
    }
  }
  return undefined;
}

/** An age error's message without the `NAME: ` it starts with (for a problem already filed under NAME). */
export function withoutLabel(err: unknown, name: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
}

