// The age payload as pull-based streams: a chunk is sealed or opened only
// when the consumer asks for more, so memory stays at one input piece plus
// one chunk whatever the file's size.
import { AgeAuthenticationError, AgeTruncatedError } from "./age-errors.ts";
import type { ByteReader } from "./byte-source.ts";
import { Rechunker } from "./rechunk.ts";
import { CHUNK, SEALED_CHUNK, TAG, openChunk, sealChunk } from "./stream-cipher.ts";

/**
 * A pull-based stream that cuts `input` into chunks of `inSize`, maps each
 * chunk but the last with `each` into `outSize` bytes of one output piece
 * per input piece, and maps the held-back last chunk with `last`.
 */
function chunkStream(
  input: ByteReader,
  inSize: number,
  outSize: number,
  each: (chunk: Uint8Array, out: Uint8Array) => void,
  last: (rest: Uint8Array) => Uint8Array,
): ReadableStream<Uint8Array> {
  const chunks = new Rechunker(inSize);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const piece = await input.read();
          if (piece === null) {
            controller.enqueue(last(chunks.rest()));
            controller.close();
            return;
          }
          const n = chunks.ready(piece.length);
          const out = new Uint8Array(n * outSize);
          let at = 0;
          chunks.push(piece, (chunk) => {
            each(chunk, out.subarray(at, at + outSize));
            at += outSize;
          });
          if (n === 0) continue;
          controller.enqueue(out);
          return;
        }
      },
      cancel: (reason) => input.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/** Encrypt everything `input` yields as STREAM chunks under the 32-byte payload `key`. */
export function sealPayload(key: Uint8Array, input: ByteReader): ReadableStream<Uint8Array> {
  let counter = 0;
  return chunkStream(
    input,
    CHUNK,
    SEALED_CHUNK,
    (chunk, out) => void sealChunk(key, counter++, false, chunk, out),
    (rest) => sealChunk(key, counter, true, rest),
  );
}

export interface OpenPayloadOptions {
  label?: string;
  /** Total size the whole file must have (from an index), checked when the input ends. */
  expectedSize?: number;
}

/** Decrypt STREAM chunks under `key`; errors name the chunk and tell alteration from truncation where the bytes can. */
export function openPayload(key: Uint8Array, input: ByteReader, options: OpenPayloadOptions = {}): ReadableStream<Uint8Array> {
  const { label, expectedSize } = options;
  let counter = 0;
  const finish = (pending: Uint8Array): Uint8Array => {
    if (expectedSize !== undefined && input.consumed < expectedSize) {
      throw new AgeTruncatedError(label, `it ends at byte ${input.consumed} of ${expectedSize}`);
    }
    const n = pending.length;
    if (n < TAG || (n === TAG && counter > 0)) {
      throw new AgeTruncatedError(label, counter === 0 && n === 0 ? "the payload is missing" : `it ends ${n} bytes into chunk ${counter}, too short to be a final chunk`);
    }
    const plain = openChunk(key, counter, true, pending);
    if (plain) {
      if (expectedSize !== undefined && input.consumed > expectedSize) {
        throw new AgeAuthenticationError(label, counter, `it is ${input.consumed} bytes, longer than the recorded ${expectedSize}`);
      }
      return plain;
    }
    if (n === SEALED_CHUNK && openChunk(key, counter, false, pending)) {
      throw new AgeTruncatedError(label, `it ends after chunk ${counter}, at a chunk boundary, without its final chunk`);
    }
    throw new AgeAuthenticationError(label, counter, `chunk ${counter}, the last, does not authenticate: the archive was altered or cut short`);
  };
  const open = (sealed: Uint8Array, out: Uint8Array): void => {
    if (!openChunk(key, counter, false, sealed, out)) {
      const detail = openChunk(key, counter, true, sealed)
        ? `chunk ${counter} is marked final but data follows it`
        : `chunk ${counter} does not authenticate: the archive was altered`;
      throw new AgeAuthenticationError(label, counter, detail);
    }
    counter++;
  };
  return chunkStream(input, SEALED_CHUNK, CHUNK, open, finish);
}
