// age v1 files as streams: encryptStream makes exactly what `age -e` makes
// (header, 16-byte payload nonce, STREAM chunks), decryptStream reads what
// any age v1 tool made. Both pull: nothing is read before it is asked for.
import { randomBytes } from "node:crypto";
// bun-types' global ReadableStream.getReader() returns node's reader type, not its own global one (which adds readMany).
import type { ReadableStreamDefaultReader as StreamReader } from "node:stream/web";
import { AgeHeaderError, AgeTruncatedError } from "./age-errors.ts";
import { buildHeader, openFileKey } from "./age-file-key.ts";
import { MAX_HEADER, parseAgeHeader } from "./age-header.ts";
import type { DecryptionKeys, EncryptionKey } from "./age-keys.ts";
import { openPayload, sealPayload } from "./age-payload.ts";
import { ByteReader, type ByteSource, concatBytes } from "./byte-source.ts";
import { PAYLOAD_NONCE, payloadKey } from "./stream-cipher.ts";

/** Encrypt `input` to `key` as an age v1 file. */
export function encryptStream(key: EncryptionKey, input: ByteSource): ReadableStream<Uint8Array> {
  const reader = new ByteReader(input);
  let body: StreamReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (body === null) {
          const { header, fileKey } = await buildHeader(key);
          const nonce = new Uint8Array(randomBytes(PAYLOAD_NONCE));
          body = sealPayload(payloadKey(fileKey, nonce), reader).getReader();
          controller.enqueue(concatBytes(header, nonce));
          return;
        }
        const r = await body.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel: (reason) => (body ? body.cancel(reason) : reader.cancel(reason)),
    },
    { highWaterMark: 0 },
  );
}

export interface DecryptOptions {
  /** What to call the file in errors (an archive name). */
  label?: string;
  /** The whole file's size when known (from the index): a shorter file is reported as truncated. */
  expectedSize?: number;
}

/** Read the header off `reader`: its exact bytes, the rest pushed back. */
export async function readHeader(reader: ByteReader, label?: string): Promise<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  for (;;) {
    const piece = await reader.read();
    if (piece === null) {
      if (buf.length === 0) throw new AgeHeaderError(label, "the file is empty");
      parseAgeHeader(buf, label); // throws on a bad header
      throw new AgeTruncatedError(label, `it ends inside its header, after ${buf.length} bytes`);
    }
    buf = concatBytes(buf, piece);
    const header = parseAgeHeader(buf, label);
    if (header) {
      reader.unread(buf.subarray(header.size));
      return buf.slice(0, header.size);
    }
    if (buf.length > MAX_HEADER) throw new AgeHeaderError(label, `no header end in the first ${MAX_HEADER} bytes`);
  }
}

/**
 * Decrypt the age v1 file `input` with `keys`. The header is read and the
 * file key opened on the first pull, so a wrong key fails before any
 * plaintext is produced; a damaged or truncated payload fails at the chunk
 * where it shows, after the chunks before it were delivered: write the
 * output under a temporary name and commit only when the stream ends cleanly.
 */
export function decryptStream(keys: DecryptionKeys, input: ByteSource, options: DecryptOptions = {}): ReadableStream<Uint8Array> {
  const { label } = options;
  const reader = new ByteReader(input);
  let body: StreamReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (body === null) {
          const fileKey = await openFileKey(await readHeader(reader, label), keys, label);
          const nonce = await readExactly(reader, PAYLOAD_NONCE, label);
          body = openPayload(payloadKey(fileKey, nonce), reader, options).getReader();
        }
        const r = await body.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel: (reason) => (body ? body.cancel(reason) : reader.cancel(reason)),
    },
    { highWaterMark: 0 },
  );
}

/** Exactly n bytes (the payload nonce); the file ending first is a truncation. */
async function readExactly(reader: ByteReader, n: number, label?: string): Promise<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  while (buf.length < n) {
    const piece = await reader.read();
    if (piece === null) {
      throw new AgeTruncatedError(label, buf.length === 0 ? "it ends right after the header, before the payload nonce" : "it ends inside the payload nonce");
    }
    buf = concatBytes(buf, piece);
  }
  reader.unread(buf.subarray(n));
  return buf.slice(0, n);
}

/**
 * Open only the header of `input` with `keys` (then stop reading): lets a
 * restore refuse a wrong or missing key for every archive of its chain
 * before it creates anything at TARGET.
 */
export async function checkAgeKey(keys: DecryptionKeys, input: ByteSource, label?: string): Promise<void> {
  const reader = new ByteReader(input);
  try {
    await openFileKey(await readHeader(reader, label), keys, label);
  } finally {
    await reader.cancel();
  }
}
