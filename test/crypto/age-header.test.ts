// The age header codec and the key-less report, on the committed vectors and hand-made headers.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AgeHeaderError, describeAge, inspectAge, looksLikeAge, parseAgeHeader } from "../../src/crypto/index.ts";
import { SEALED_CHUNK } from "../../src/crypto/stream-cipher.ts";
import { VECTORS, readBytes, streamOf } from "./age-cli.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const MAC = "--- " + "A".repeat(42) + "E\n"; // 32 bytes, canonical (trailing bits zero)
const b64 = (n: number) => Buffer.alloc(n, 0xab).toString("base64").replace(/=+$/, "");

describe("parseAgeHeader", () => {
  test("the age CLI's X25519 header: one stanza with a 32-byte share and a 32-byte body", () => {
    const file = readBytes(join(VECTORS, "x25519-70000.age"));
    const h = parseAgeHeader(file)!;
    expect(h.stanzas.length).toBe(1);
    expect(h.stanzas[0]!.type).toBe("X25519");
    expect(Buffer.from(h.stanzas[0]!.args[0]!, "base64").length).toBe(32);
    expect(h.stanzas[0]!.body.length).toBe(32);
    expect(h.mac.length).toBe(32);
    expect(new TextDecoder().decode(file.subarray(h.size - 48, h.size))).toMatch(/^--- [A-Za-z0-9+/]{43}\n$/);
  });

  test("the age CLI's scrypt header: salt and work factor", () => {
    const h = parseAgeHeader(readBytes(join(VECTORS, "scrypt-hello.age")))!;
    expect(h.stanzas.map((s) => [s.type, Buffer.from(s.args[0]!, "base64").length, s.args[1]])).toEqual([["scrypt", 16, "18"]]);
  });

  test("a body of exactly 48 bytes ends with an empty line; several stanzas", () => {
    const text = `age-encryption.org/v1\n-> a.example/x 1 2\n${b64(48)}\n\n-> b\n${b64(49).slice(0, 64)}\n${b64(49).slice(64)}\n${MAC}`;
    const h = parseAgeHeader(enc(text + "payload"))!;
    expect(h.size).toBe(text.length);
    expect(h.stanzas.map((s) => [s.type, s.args, s.body.length])).toEqual([["a.example/x", ["1", "2"], 48], ["b", [], 49]]);
  });

  test("incomplete input asks for more (null)", () => {
    const text = `age-encryption.org/v1\n-> X25519 abc\n${b64(32)}\n${MAC}`;
    for (const n of [5, 22, 30, text.length - 1]) expect(parseAgeHeader(enc(text.slice(0, n)))).toBeNull();
  });

  test("malformed headers are AgeHeaderError with the reason", () => {
    const bad: [string, string][] = [
      ["age-encryption.org/v2\n", "it does not start with the age v1 version line"],
      ["\x1f\x8b\x08\x00", "it does not start with the age v1 version line"],
      ["age-encryption.org/v1\nhello\n", "header line 2 is neither a stanza nor the MAC line"],
      ["age-encryption.org/v1\n-> X25519  two-spaces\n\n", "header line 2: malformed stanza arguments"],
      [`age-encryption.org/v1\n-> X\n${b64(48)}=\n`, "header line 3: stanza body line longer than 64 characters"],
      ["age-encryption.org/v1\n-> X\nab=\n", "header line 3 is not unpadded base64"],
      ["age-encryption.org/v1\n-> X\nAB\n", "header line 3 is not canonical base64"],
      ["age-encryption.org/v1\n--- AAAA\n", "the header MAC is not 32 bytes"],
    ];
    for (const [text, reason] of bad) {
      let err: unknown;
      try {
        parseAgeHeader(enc(text), "f.age");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AgeHeaderError);
      expect((err as Error).message).toBe(`f.age: not a valid age file: ${reason}`);
    }
  });

  test("looksLikeAge tells an age file from a gzip stream", () => {
    expect(looksLikeAge(enc("age-encryption.org/v1\n-> X25519"))).toBe(true);
    expect(looksLikeAge(new Uint8Array([0x1f, 0x8b, 8, 0]))).toBe(false);
    expect(looksLikeAge(enc("age-encr"))).toBe(false);
  });
});

describe("what can be checked without a key", () => {
  const file = readBytes(join(VECTORS, "x25519-70000.age"));
  const header = parseAgeHeader(file)!;

  test("a whole file: recipients and the plaintext size from the chunk structure", async () => {
    const r = await inspectAge(streamOf(file, 1000));
    expect(r).toEqual({ recipientTypes: ["X25519"], recipients: "1 X25519 recipient", headerSize: header.size, fileSize: file.length, plainSize: 70000, problem: null });
  });

  test("a passphrase file reports its work factor", async () => {
    const r = await inspectAge(streamOf(readBytes(join(VECTORS, "scrypt-hello.age"))));
    expect([r.recipients, r.scryptWorkFactor, r.plainSize, r.problem]).toEqual(["a passphrase (scrypt)", 18, 11, null]);
  });

  test("sizes no age file has are truncations", () => {
    const at = (n: number) => describeAge(header, n).problem;
    expect(at(header.size - 1)).toBe("truncated: the file ends inside its header");
    expect(at(header.size + 3)).toBe("truncated: the file ends inside the payload nonce");
    expect(at(header.size + 16 + SEALED_CHUNK + 16)).toBe("truncated: 65568 payload bytes is no valid age payload length");
    expect(at(header.size + 16 + 5)).toBe("truncated: 5 payload bytes is no valid age payload length");
    // A cut at a chunk boundary has a valid length; only decryption sees the missing final flag.
    expect(describeAge(header, header.size + 16 + SEALED_CHUNK)).toMatchObject({ plainSize: 65536, problem: null });
  });
});
