// The archive-level codec: encryptingSink (what the archive writer writes
// into) makes files `age -d` reads, at the sizes where chunking can go wrong,
// passes back-pressure through, and never hands plaintext to its inner sink;
// openArchiveBytes decrypts by name and passes plain archives through.
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ByteSink } from "../../src/archive/writer.ts";
import {
  AgeNoIdentityError,
  type DecryptionKeys,
  checkArchiveKeys,
  encryptingSink,
  isEncryptedName,
  loadDecryptionKeys,
  openArchiveBytes,
} from "../../src/crypto/index.ts";
import { CHUNK, PAYLOAD_NONCE, sealedSize } from "../../src/crypto/stream-cipher.ts";
import { tempDir } from "../helpers.ts";
import { ageCli, collect, keygen, pattern, run, writeBytes } from "./age-cli.ts";

/** An inner sink that keeps what it was given, one write at a time, each taking a turn of the event loop. */
function memorySink() {
  const pieces: Uint8Array[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const sink: ByteSink = {
    label: "memory",
    async write(chunk) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 0));
      pieces.push(chunk.slice());
      inFlight--;
    },
  };
  return { sink, pieces, bytes: () => new Uint8Array(Buffer.concat(pieces)), maxInFlight: () => maxInFlight };
}

async function sealInPieces(recipient: string, data: Uint8Array, piece: number) {
  const inner = memorySink();
  const sink = encryptingSink({ kind: "recipients", recipients: [recipient] }, inner.sink);
  for (let off = 0; off < data.length; off += piece) await sink.write(data.subarray(off, off + piece));
  await sink.end();
  expect(sink.bytesWritten).toBe(inner.bytes().length);
  return inner;
}

test("names: NAME.tgz.age is encrypted, NAME.tgz is not", () => {
  expect(isEncryptedName("backup-7.tgz.age")).toBe(true);
  expect(isEncryptedName("mystorage-5-to-7.tgz.age")).toBe(true);
  expect(isEncryptedName("backup-7.tgz")).toBe(false);
  expect(isEncryptedName("backup-7.age")).toBe(false);
});

test("openArchiveBytes hands a plain archive's bytes through untouched", async () => {
  const source = [pattern(10), pattern(20)];
  expect(openArchiveBytes(source as unknown as AsyncIterable<Uint8Array>, "backup-1.tgz")).toBe(source as unknown as AsyncIterable<Uint8Array>);
});

describe.skipIf(!ageCli)("with the age CLI", () => {
  let dir = "";
  let key = { path: "", recipient: "" };
  let other = { path: "", recipient: "" };
  let keys: DecryptionKeys;
  beforeAll(async () => {
    dir = tempDir("archive-codec");
    key = keygen(dir);
    other = keygen(dir, "other.txt");
    keys = await loadDecryptionKeys({ identityFiles: [key.path] });
  });

  for (const [size, piece] of [
    [0, 1],
    [1, 1],
    [CHUNK - 1, 1000],
    [CHUNK, CHUNK],
    [CHUNK + 1, 7777],
    [3 * CHUNK, 3 * CHUNK],
    [1_000_003, 300_000],
  ] as const) {
    test(`${size} bytes written in pieces of ${piece}: age -d gives them back, and so does openArchiveBytes`, async () => {
      const data = pattern(size);
      const inner = await sealInPieces(key.recipient, data, piece);
      const file = join(dir, `s${size}.tgz.age`);
      writeBytes(file, inner.bytes());
      const r = run("age", ["-d", "-i", key.path, file]);
      expect(r.stderr).toBe("");
      expect(new Uint8Array(r.stdout)).toEqual(data);
      // age's own size rule: header + nonce + STREAM chunks.
      const headerSize = inner.pieces[0]!.length - PAYLOAD_NONCE;
      expect(inner.bytes().length).toBe(headerSize + PAYLOAD_NONCE + sealedSize(size));
      expect(await collect(openArchiveBytes([inner.bytes()], "s.tgz.age", keys))).toEqual(data);
      // One write at a time reaches the inner sink: back-pressure passes through.
      expect(inner.maxInFlight()).toBe(1);
    });
  }

  test("no piece handed to the inner sink holds plaintext (a gzip magic, or the written bytes)", async () => {
    const data = new Uint8Array(Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0]), Buffer.from(pattern(200_000))]));
    const inner = await sealInPieces(key.recipient, data, 50_000);
    for (const p of inner.pieces) {
      expect(p[0] === 0x1f && p[1] === 0x8b).toBe(false);
      expect(Buffer.from(p).includes(Buffer.from(data.subarray(1000, 1064)))).toBe(false);
    }
    expect(new TextDecoder().decode(inner.pieces[0]!.subarray(0, 22))).toBe("age-encryption.org/v1\n");
  });

  test("a write resolves only when the inner sink took its ciphertext", async () => {
    let release = () => {};
    let wrote = 0;
    const inner: ByteSink = {
      label: "slow",
      write: () => new Promise<void>((r) => (release = () => (wrote++, r()))),
    };
    const sink = encryptingSink({ kind: "recipients", recipients: [key.recipient] }, inner);
    let done = false;
    const w = sink.write(pattern(3 * CHUNK)).then(() => (done = true));
    for (let i = 0; i < 20 && wrote === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      release();
    }
    // The header went through; the chunks are held until the next release.
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    release();
    await w;
    expect(done).toBe(true);
  });

  test("checkArchiveKeys: a wrong key throws naming the archive; plain archives are not opened", async () => {
    const inner = await sealInPieces(other.recipient, pattern(1000), 1000);
    const opened: string[] = [];
    const archives = [{ name: "b-1.tgz" }, { name: "b-1-to-2.tgz.age" }];
    const err = await checkArchiveKeys(archives, keys, (a) => {
      opened.push(a.name);
      return [inner.bytes()];
    }).catch((e) => e);
    expect(err).toBeInstanceOf(AgeNoIdentityError);
    expect(err.message).toStartWith("b-1-to-2.tgz.age: no identity matched");
    expect(opened).toEqual(["b-1-to-2.tgz.age"]);
  });

  test("checkArchiveKeys: a damaged header is returned as that archive's problem", async () => {
    const inner = await sealInPieces(key.recipient, pattern(1000), 1000);
    const bytes = inner.bytes();
    const header = new TextDecoder().decode(bytes.subarray(0, 300));
    bytes[header.indexOf("\n--- ") + 6]! ^= 1; // inside the MAC
    const problem = await checkArchiveKeys([{ name: "b-1.tgz.age" }], keys, () => [bytes]);
    expect(problem?.archive).toBe("b-1.tgz.age");
    expect(problem?.message).toContain("header MAC does not match");
  });
});
