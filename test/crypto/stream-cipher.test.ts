// Golden bytes for the pure STREAM pieces, tied to files the age CLI made.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Decrypter } from "age-encryption";
import { parseAgeHeader } from "../../src/crypto/age-header.ts";
import { sealPayload } from "../../src/crypto/age-payload.ts";
import { ByteReader } from "../../src/crypto/byte-source.ts";
import { CHUNK, PAYLOAD_NONCE, SEALED_CHUNK, TAG, chunkNonce, openChunk, payloadKey, plainSize, sealChunk, sealChunks, sealedSize } from "../../src/crypto/stream-cipher.ts";
import { VECTORS, ageCli, ageDecryptPassphrase, collect, pattern, readBytes, streamOf, writeBytes } from "./age-cli.ts";
import { tempDir } from "../helpers.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("chunk nonce: 11-byte big-endian counter, then the last-chunk flag", () => {
  test("layout", () => {
    expect(hex(chunkNonce(0, false))).toBe("000000000000000000000000");
    expect(hex(chunkNonce(0, true))).toBe("000000000000000000000001");
    expect(hex(chunkNonce(1, false))).toBe("000000000000000000000100");
    expect(hex(chunkNonce(0x0102, true))).toBe("000000000000000000010201");
    expect(hex(chunkNonce(2 ** 32 + 5, false))).toBe("000000000000010000000500");
    expect(hex(chunkNonce(Number.MAX_SAFE_INTEGER, true))).toBe("000000001fffffffffffff01");
  });
  test("refuses counters that are no safe non-negative integer", () => {
    expect(() => chunkNonce(-1, false)).toThrow(RangeError);
    expect(() => chunkNonce(1.5, false)).toThrow(RangeError);
  });
});

describe("sizes", () => {
  test("sealedSize: one tag per started 64 KiB chunk, at least one chunk", () => {
    expect(sealedSize(0)).toBe(16);
    expect(sealedSize(1)).toBe(17);
    expect(sealedSize(CHUNK - 1)).toBe(CHUNK + 15);
    expect(sealedSize(CHUNK)).toBe(SEALED_CHUNK);
    expect(sealedSize(CHUNK + 1)).toBe(SEALED_CHUNK + 17);
    expect(sealedSize(5 * CHUNK)).toBe(5 * SEALED_CHUNK);
  });
  test("plainSize inverts sealedSize and rejects lengths no plaintext has", () => {
    for (const n of [0, 1, 2, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7]) expect(plainSize(sealedSize(n))).toBe(n);
    expect(plainSize(0)).toBeNull();
    expect(plainSize(15)).toBeNull();
    expect(plainSize(SEALED_CHUNK + 1)).toBeNull(); // a final chunk of one byte: less than its tag
    expect(plainSize(SEALED_CHUNK + TAG)).toBeNull(); // an empty final chunk after a full one
    expect(plainSize(2 * SEALED_CHUNK)).toBe(2 * CHUNK); // valid length; only the flag tells it is whole
  });
});

describe("payload bytes equal the age CLI's", () => {
  const file = readBytes(join(VECTORS, "x25519-70000.age"));
  const identity = Buffer.from(readBytes(join(VECTORS, "x25519-key.txt")))
    .toString().split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"))!;

  test("sealing pattern(70000) under the vector's file key and nonce gives the vector's payload", async () => {
    const header = parseAgeHeader(file)!;
    const d = new Decrypter();
    d.addIdentity(identity);
    const fileKey = await d.decryptHeader(file.subarray(0, header.size));
    const nonce = file.subarray(header.size, header.size + PAYLOAD_NONCE);
    const ours = await collect(sealPayload(payloadKey(fileKey, nonce), new ByteReader(streamOf(pattern(70000), 4096))));
    expect(ours.length).toBe(sealedSize(70000));
    expect(hex(ours) === hex(file.subarray(header.size + PAYLOAD_NONCE))).toBe(true);
  });

  test("sealChunks over ranges gives the same bytes as the stream (parallel sealing)", async () => {
    const key = new Uint8Array(32).fill(9);
    const data = pattern(3 * CHUNK + 10);
    const whole = await collect(sealPayload(key, new ByteReader(streamOf(data))));
    const parts = Buffer.concat([sealChunks(key, 0, data.subarray(0, 2 * CHUNK), false), sealChunks(key, 2, data.subarray(2 * CHUNK), true)]);
    expect(Buffer.compare(parts, Buffer.from(whole))).toBe(0);
    expect(hex(sealChunks(key, 0, new Uint8Array(0), true))).toBe(hex(sealChunk(key, 0, true, new Uint8Array(0))));
    expect(() => sealChunks(key, 0, data.subarray(0, 5), false)).toThrow(RangeError);
  });

  // Fixed file key and nonce: the bytes are pinned here, and age accepts them
  // behind the scrypt vector's header (whose file key this is).
  test("fixed file key and nonce: pinned bytes that age decrypts", async () => {
    const vector = readBytes(join(VECTORS, "scrypt-hello.age"));
    const header = parseAgeHeader(vector)!;
    const d = new Decrypter();
    d.addPassphrase("vector passphrase");
    const fileKey = await d.decryptHeader(vector.subarray(0, header.size));
    const nonce = new Uint8Array(16).map((_, i) => i);
    const key = payloadKey(fileKey, nonce);
    const sealed = sealChunk(key, 0, true, new TextEncoder().encode("hello, age\n"));
    expect({ fileKey: hex(fileKey), key: hex(key), sealed: hex(sealed) }).toEqual(GOLDEN);
    expect(new TextDecoder().decode(openChunk(key, 0, true, sealed)!)).toBe("hello, age\n");
    expect(openChunk(key, 0, false, sealed)).toBeNull(); // the flag is authenticated
    if (!ageCli) return;
    const dir = tempDir("age-golden");
    writeBytes(join(dir, "f.age"), new Uint8Array(Buffer.concat([vector.subarray(0, header.size), nonce, sealed])));
    expect(ageDecryptPassphrase(join(dir, "f.age"), join(dir, "out"), "vector passphrase")).toBe(0);
    expect(Buffer.from(readBytes(join(dir, "out"))).toString()).toBe("hello, age\n");
  }, 60_000);
});

const GOLDEN = {
  fileKey: "0ecfbd736b4fdecbe021ef9731325938",
  key: "4040c4e6ac3e5f5b2f395ece9150800564724f37320e13de6c39da39630ec982",
  sealed: "1e62e798fc6a34448f844a1e7e1574227b67ec23bd7dcb5b0f8299",
};
