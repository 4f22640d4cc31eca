// age v1 payload: the STREAM construction over ChaCha20-Poly1305
// (age-encryption.org/v1, "Payload"). Pure functions, no I/O.
//
//   payload   = nonce(16) || chunk_0 || ... || chunk_n
//   key       = HKDF-SHA256(ikm = file key, salt = nonce, info = "payload"), 32 bytes
//   chunk_i   = ChaCha20-Poly1305(key, chunkNonce(i, i == n), plaintext_i) = ciphertext || tag(16)
//   chunkNonce(i, last) = i as 11-byte big-endian || (last ? 0x01 : 0x00)
// Every plaintext chunk is 64 KiB except the last, which is 1..64 KiB, or
// 0 bytes only when the whole plaintext is empty (then it is the only chunk).
//
// The cipher is @noble/ciphers, the one typage uses: Bun 1.4 has no native
// ChaCha20-Poly1305 (createCipheriv and WebCrypto both refuse it).
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdfSync } from "node:crypto";

/** Plaintext bytes per chunk. */
export const CHUNK = 64 * 1024;
/** Poly1305 tag bytes after each chunk. */
export const TAG = 16;
/** A full chunk as stored. */
export const SEALED_CHUNK = CHUNK + TAG;
/** The random payload nonce right after the header. */
export const PAYLOAD_NONCE = 16;

/** The 12-byte ChaCha20-Poly1305 nonce of chunk `counter`: 11-byte big-endian counter, then the last-chunk flag. */
export function chunkNonce(counter: number, last: boolean, out = new Uint8Array(12)): Uint8Array {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`STREAM counter out of range: ${counter}`);
  out.fill(0);
  const view = new DataView(out.buffer, out.byteOffset, 12);
  // A safe integer fits in bytes 3..10 (53 bits); bytes 0..2 stay zero.
  view.setUint32(3, Math.floor(counter / 2 ** 32));
  view.setUint32(7, counter >>> 0);
  out[11] = last ? 1 : 0;
  return out;
}

/** The payload key from the 16-byte file key and the 16-byte payload nonce. */
export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  if (fileKey.length !== 16) throw new RangeError("age file key must be 16 bytes");
  if (nonce.length !== PAYLOAD_NONCE) throw new RangeError("age payload nonce must be 16 bytes");
  return new Uint8Array(hkdfSync("sha256", fileKey, nonce, "payload", 32));
}

/** Encrypt one chunk (at most CHUNK bytes) into `out` (plain.length + TAG bytes), or a new array. */
export function sealChunk(key: Uint8Array, counter: number, last: boolean, plain: Uint8Array, out?: Uint8Array): Uint8Array {
  return chacha20poly1305(key, chunkNonce(counter, last)).encrypt(plain, out);
}

/** Decrypt one chunk into `out` (sealed.length - TAG bytes), or a new array; null when it does not authenticate. */
export function openChunk(key: Uint8Array, counter: number, last: boolean, sealed: Uint8Array, out?: Uint8Array): Uint8Array | null {
  if (sealed.length < TAG) return null;
  try {
    return chacha20poly1305(key, chunkNonce(counter, last)).decrypt(sealed, out);
  } catch {
    return null;
  }
}

/** Size of the chunk sequence (without the payload nonce) for a plaintext of `plain` bytes. */
export function sealedSize(plain: number): number {
  const chunks = Math.max(1, Math.ceil(plain / CHUNK));
  return plain + chunks * TAG;
}

/**
 * Plaintext size for a chunk sequence of `sealed` bytes (without the payload
 * nonce), or null when no plaintext encrypts to that length: a file cut so
 * that its last chunk holds no more than a tag cannot be whole.
 */
export function plainSize(sealed: number): number | null {
  if (sealed < TAG) return null;
  if (sealed === TAG) return 0;
  const full = Math.floor(sealed / SEALED_CHUNK);
  const rest = sealed % SEALED_CHUNK;
  if (rest > 0 && rest <= TAG) return null;
  return sealed - (full + (rest > 0 ? 1 : 0)) * TAG;
}

/**
 * Seal consecutive chunks of `plain` starting at chunk `first`: for sealing
 * in parallel (a worker per range), since a chunk's nonce depends only on its
 * number. `plain` is whole chunks, except for the range holding the end
 * (`last`), whose final chunk may be short or (for an empty file) empty.
 */
export function sealChunks(key: Uint8Array, first: number, plain: Uint8Array, last: boolean): Uint8Array {
  const n = Math.max(1, Math.ceil(plain.length / CHUNK));
  if (!last && plain.length % CHUNK !== 0) throw new RangeError("only the final range may end in a partial chunk");
  const out = new Uint8Array(plain.length + n * TAG);
  for (let i = 0; i < n; i++) {
    const chunk = plain.subarray(i * CHUNK, (i + 1) * CHUNK);
    sealChunk(key, first + i, last && i === n - 1, chunk, out.subarray(i * SEALED_CHUNK, i * SEALED_CHUNK + chunk.length + TAG));
  }
  return out;
}
