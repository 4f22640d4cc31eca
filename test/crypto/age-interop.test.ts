// Our age files against Debian's age CLI, both ways, at the sizes where
// STREAM chunking can go wrong, and every way a file can be damaged.
import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AgeAuthenticationError,
  AgeHeaderError,
  AgeNoIdentityError,
  AgeTruncatedError,
  type DecryptionKeys,
  type EncryptionKey,
  checkAgeKey,
  decryptStream,
  encryptStream,
  loadDecryptionKeys,
  loadEncryptionKey,
  parseAgeHeader,
} from "../../src/crypto/index.ts";
import { CHUNK, PAYLOAD_NONCE, SEALED_CHUNK } from "../../src/crypto/stream-cipher.ts";
import { ExitCode } from "../../src/errors.ts";
import { tempDir } from "../helpers.ts";
import { ageCli, ageDecryptPassphrase, ageEncryptPassphrase, collect, keygen, pattern, readBytes, run, streamOf, writeBytes } from "./age-cli.ts";

const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 5 * 1024 * 1024 + 3];

let dir = "";
let alice = { path: "", recipient: "" };
let bob = { path: "", recipient: "" };
let aliceKeys: DecryptionKeys;
beforeAll(async () => {
  if (!ageCli) return;
  dir = tempDir("age-interop");
  alice = keygen(dir, "alice.txt");
  bob = keygen(dir, "bob.txt");
  aliceKeys = await loadDecryptionKeys({ identityFiles: [alice.path] });
});

async function encryptTo(key: EncryptionKey, data: Uint8Array, piece?: number): Promise<Uint8Array> {
  return collect(encryptStream(key, streamOf(data, piece)));
}
async function decryptWith(keys: DecryptionKeys, file: Uint8Array, options: { label?: string; expectedSize?: number; piece?: number } = {}): Promise<Uint8Array> {
  return collect(decryptStream(keys, streamOf(file, options.piece), options));
}
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure");
}

describe.skipIf(!ageCli)("our files decrypt with age -d -i", () => {
  for (const size of SIZES) {
    test(`${size} bytes`, async () => {
      const data = pattern(size);
      const file = await encryptTo({ kind: "recipients", recipients: [alice.recipient] }, data, 7777);
      const path = join(dir, `ours-${size}.age`);
      writeBytes(path, file);
      const r = run("age", ["-d", "-i", alice.path, path]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(Buffer.compare(r.stdout, Buffer.from(data))).toBe(0);
    }, 60_000);
  }

  test("two recipients: each key opens it", async () => {
    const data = pattern(CHUNK + 5);
    const path = join(dir, "two.age");
    writeBytes(path, await encryptTo({ kind: "recipients", recipients: [alice.recipient, bob.recipient] }, data));
    for (const k of [alice, bob]) expect(Buffer.compare(run("age", ["-d", "-i", k.path, path]).stdout, Buffer.from(data))).toBe(0);
    expect(parseAgeHeader(readBytes(path))!.stanzas.map((s) => s.type)).toEqual(["X25519", "X25519"]);
  });

  test("a recipients file with comments and blank lines, as age -R reads it", async () => {
    const rfile = join(dir, "recipients.txt");
    writeFileSync(rfile, `# the backup keys\n\n${alice.recipient}\n# bob, off-site\n${bob.recipient}\n`);
    const key = (await loadEncryptionKey({ recipientsFiles: [rfile] }))!;
    expect(key).toEqual({ kind: "recipients", recipients: [alice.recipient, bob.recipient] });
    const path = join(dir, "rfile.age");
    writeBytes(path, await encryptTo(key, pattern(1000)));
    expect(Buffer.compare(run("age", ["-d", "-i", bob.path, path]).stdout, Buffer.from(pattern(1000)))).toBe(0);
  });

  test("recipients files we refuse, age -R refuses too; CRLF both take", async () => {
    const cases: [string, boolean][] = [[`  ${alice.recipient}\n`, false], [`${alice.recipient}\n  # c\n`, false], [`${alice.recipient} x\n`, false], [`# c\r\n${alice.recipient}\r\n`, true]];
    for (const [text, ok] of cases) {
      const rfile = join(dir, "case.txt");
      writeFileSync(rfile, text);
      expect(run("age", ["-e", "-R", rfile], "x").status === 0).toBe(ok);
      expect(await loadEncryptionKey({ recipientsFiles: [rfile] }).then(() => true, () => false)).toBe(ok);
    }
  });

  test("passphrase, age's default work factor 18: age -d asks for it and decrypts", async () => {
    const pfile = join(dir, "pass.txt");
    writeFileSync(pfile, "correct horse battery staple\nsecond line ignored\n");
    const key = (await loadEncryptionKey({ passphraseFile: pfile }))!;
    const data = pattern(3 * CHUNK + 11);
    const path = join(dir, "ours-pass.age");
    writeBytes(path, await encryptTo(key, data));
    const header = parseAgeHeader(readBytes(path))!;
    expect(header.stanzas.map((s) => [s.type, s.args[1]])).toEqual([["scrypt", "18"]]);
    expect(ageDecryptPassphrase(path, join(dir, "ours-pass.out"), "correct horse battery staple")).toBe(0);
    expect(Buffer.compare(Buffer.from(readBytes(join(dir, "ours-pass.out"))), Buffer.from(data))).toBe(0);
    expect(ageDecryptPassphrase(path, join(dir, "wrong.out"), "wrong")).not.toBe(0);
  }, 60_000);
});

describe.skipIf(!ageCli)("age -e files decrypt with us", () => {
  for (const size of SIZES) {
    test(`age -e -r, ${size} bytes`, async () => {
      const data = pattern(size);
      const plain = join(dir, `plain-${size}`);
      writeBytes(plain, data);
      const path = join(dir, `theirs-${size}.age`);
      expect(run("age", ["-e", "-r", alice.recipient, "-o", path, plain]).status).toBe(0);
      const out = await decryptWith(aliceKeys, readBytes(path), { piece: 65_000, expectedSize: readBytes(path).length });
      expect(Buffer.compare(Buffer.from(out), Buffer.from(data))).toBe(0);
    }, 60_000);
  }

  test("age -e -R with two recipients: the second key alone opens it", async () => {
    const rfile = join(dir, "r2.txt");
    writeFileSync(rfile, `${alice.recipient}\n${bob.recipient}\n`);
    const plain = join(dir, "plain-R");
    writeBytes(plain, pattern(CHUNK * 2 + 1));
    const path = join(dir, "theirs-R.age");
    expect(run("age", ["-e", "-R", rfile, "-o", path, plain]).status).toBe(0);
    const keys = await loadDecryptionKeys({ identityFiles: [bob.path] });
    expect(Buffer.compare(Buffer.from(await decryptWith(keys, readBytes(path))), Buffer.from(pattern(CHUNK * 2 + 1)))).toBe(0);
  });

  test("age -p: the passphrase file's first line opens it", async () => {
    const plain = join(dir, "plain-p");
    writeBytes(plain, pattern(CHUNK + 1));
    const path = join(dir, "theirs-p.age");
    expect(ageEncryptPassphrase(plain, path, "pass phrase with spaces")).toBe(0);
    const pfile = join(dir, "p.txt");
    writeFileSync(pfile, "pass phrase with spaces\n");
    const keys = await loadDecryptionKeys({ passphraseFile: pfile });
    expect(Buffer.compare(Buffer.from(await decryptWith(keys, readBytes(path))), Buffer.from(pattern(CHUNK + 1)))).toBe(0);
  }, 60_000);
});

describe.skipIf(!ageCli)("wrong and missing keys", () => {
  let file: Uint8Array;
  beforeAll(async () => {
    file = await encryptTo({ kind: "recipients", recipients: [alice.recipient] }, pattern(100));
  });

  test("another identity: no identity matched, naming the archive, exit status 15, before any output", async () => {
    const keys = await loadDecryptionKeys({ identityFiles: [bob.path] });
    const stream = decryptStream(keys, streamOf(file), { label: "backup-7.tgz.age" });
    const err = await failure(stream.getReader().read());
    expect(err).toBeInstanceOf(AgeNoIdentityError);
    expect(err.message).toBe("backup-7.tgz.age: no identity matched (encrypted to 1 X25519 recipient; tried 1 identity)");
    expect((err as AgeNoIdentityError).exitCode).toBe(ExitCode.noKey);
    expect(err.message).not.toContain("AGE-SECRET-KEY");
  });

  test("checkAgeKey reads only the header: a wrong key fails, the right one passes", async () => {
    const bobKeys = await loadDecryptionKeys({ identityFiles: [bob.path] });
    expect(await failure(checkAgeKey(bobKeys, streamOf(file), "b.age"))).toBeInstanceOf(AgeNoIdentityError);
    await checkAgeKey(aliceKeys, streamOf(file.subarray(0, 300)), "b.age"); // a cut payload is not its business
  });

  test("no key at all", async () => {
    const err = await failure(decryptWith({ identities: [], passphrases: [] }, file, { label: "backup-7.tgz.age" }));
    expect(err).toBeInstanceOf(AgeNoIdentityError);
    expect(err.message).toBe("backup-7.tgz.age: encrypted to 1 X25519 recipient, and no identity or passphrase was given");
  });

  test("wrong passphrase on a passphrase file, and an identity on it", async () => {
    const pfile = await encryptTo({ kind: "passphrase", passphrase: "right", workFactor: 10 }, pattern(100));
    const err = await failure(decryptWith({ identities: [], passphrases: ["wrong"] }, pfile, { label: "a.age" }));
    expect(err).toBeInstanceOf(AgeNoIdentityError);
    expect(err.message).toBe("a.age: no identity matched (encrypted to a passphrase (scrypt); tried a passphrase)");
    expect(await failure(decryptWith(aliceKeys, pfile))).toBeInstanceOf(AgeNoIdentityError);
    expect(Buffer.from(await decryptWith({ identities: [], passphrases: ["right"] }, pfile)).equals(Buffer.from(pattern(100)))).toBe(true);
    // At the default work factor, checking the key then decrypting runs scrypt once (about a second, not two).
    const slow = await encryptTo({ kind: "passphrase", passphrase: "right" }, pattern(100));
    const keys = { identities: [], passphrases: ["right"] };
    const t0 = performance.now();
    await checkAgeKey(keys, streamOf(slow));
    const once = performance.now() - t0;
    await decryptWith(keys, slow);
    expect(performance.now() - t0).toBeLessThan(once * 1.5);
  }, 60_000);
});

describe.skipIf(!ageCli)("damage is detected", () => {
  const data = pattern(3 * CHUNK + 500); // chunks 0, 1, 2 full, chunk 3 of 500 bytes
  let file: Uint8Array;
  let headerSize = 0;
  beforeAll(async () => {
    file = await encryptTo({ kind: "recipients", recipients: [alice.recipient] }, data);
    headerSize = parseAgeHeader(file)!.size;
  });
  const flipped = (at: number) => {
    const f = file.slice();
    f[at]! ^= 0x01;
    return f;
  };
  const payloadAt = (chunk: number, offset = 0) => headerSize + PAYLOAD_NONCE + chunk * SEALED_CHUNK + offset;

  test("a flipped byte in the header MAC", async () => {
    // Another base64 letter, so the MAC stays well-formed but differs (a bit flip can make a non-base64 character).
    const at = new TextDecoder().decode(file.subarray(0, headerSize)).indexOf("--- ") + 10;
    const f = file.slice();
    f[at] = f[at] === 0x41 ? 0x42 : 0x41;
    const err = await failure(decryptWith(aliceKeys, f, { label: "x.age" }));
    expect(err).toBeInstanceOf(AgeHeaderError);
    expect(err.message).toBe("x.age: not a valid age file: the header MAC does not match: the header was altered");
  });

  test("a flipped byte in the version line", async () => {
    const err = await failure(decryptWith(aliceKeys, flipped(3), { label: "x.age" }));
    expect(err).toBeInstanceOf(AgeHeaderError);
    expect(err.message).toBe("x.age: not a valid age file: it does not start with the age v1 version line");
  });

  test("a changed byte in the stanza body: the key no longer unwraps (age cannot tell this from a wrong key)", async () => {
    // Another valid base64 character in the middle of the body line, so the header still parses.
    const at = file.indexOf(0x0a, new TextDecoder().decode(file.subarray(0, headerSize)).indexOf("-> X25519")) + 1 + 10;
    const f = file.slice();
    f[at] = f[at] === 0x41 ? 0x42 : 0x41;
    expect(await failure(decryptWith(aliceKeys, f))).toBeInstanceOf(AgeNoIdentityError);
    expect(run("age", ["-d", "-i", alice.path], f).status).not.toBe(0);
  });

  test("a flipped bit anywhere in the header is refused, as a header error or as no matching key", async () => {
    for (let at = 0; at < headerSize; at += 7) {
      const err = await failure(decryptWith(aliceKeys, flipped(at)));
      expect(err instanceof AgeHeaderError || err instanceof AgeNoIdentityError).toBe(true);
    }
  });

  test("a flipped byte in the payload nonce, in a middle chunk, in the last chunk", async () => {
    for (const [at, chunk] of [[headerSize + 3, 0], [payloadAt(1, 100), 1], [payloadAt(3, 20), 3]] as const) {
      const f = flipped(at);
      const err = await failure(decryptWith(aliceKeys, f, { label: "x.age" }));
      expect(err).toBeInstanceOf(AgeAuthenticationError);
      expect((err as AgeAuthenticationError).chunk).toBe(chunk);
      expect(run("age", ["-d", "-i", alice.path], f).status).not.toBe(0); // age agrees
    }
  });

  test("a damaged chunk's plaintext is never delivered", async () => {
    const reader = decryptStream(aliceKeys, streamOf(flipped(payloadAt(1, 5)), SEALED_CHUNK * 4)).getReader();
    let delivered = 0;
    const err = await failure((async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) delivered += r.value.length;
    })());
    expect(err).toBeInstanceOf(AgeAuthenticationError);
    expect(delivered).toBeLessThanOrEqual(CHUNK);
  });

  test("truncation at a chunk boundary: the missing final flag is caught", async () => {
    for (const chunks of [1, 2, 3]) {
      const err = await failure(decryptWith(aliceKeys, file.subarray(0, payloadAt(chunks)), { label: "x.age" }));
      expect(err).toBeInstanceOf(AgeTruncatedError);
      expect(err.message).toBe(`x.age: truncated: it ends after chunk ${chunks - 1}, at a chunk boundary, without its final chunk`);
      expect(run("age", ["-d", "-i", alice.path], file.subarray(0, payloadAt(chunks))).status).not.toBe(0);
    }
  });

  test("truncation elsewhere: in the header, after it, in the nonce, a few bytes into a chunk, inside the last chunk", async () => {
    const cases: [number, new (...a: never[]) => Error, string][] = [
      [0, AgeHeaderError, "x.age: not a valid age file: the file is empty"],
      [30, AgeTruncatedError, "x.age: truncated: it ends inside its header, after 30 bytes"],
      [headerSize, AgeTruncatedError, "x.age: truncated: it ends right after the header, before the payload nonce"],
      [headerSize + 5, AgeTruncatedError, "x.age: truncated: it ends inside the payload nonce"],
      [payloadAt(2, 7), AgeTruncatedError, "x.age: truncated: it ends 7 bytes into chunk 2, too short to be a final chunk"],
      [payloadAt(2, 16), AgeTruncatedError, "x.age: truncated: it ends 16 bytes into chunk 2, too short to be a final chunk"],
      [payloadAt(3, 100), AgeAuthenticationError, "x.age: chunk 3, the last, does not authenticate: the archive was altered or cut short"],
    ];
    for (const [size, type, message] of cases) {
      const err = await failure(decryptWith(aliceKeys, file.subarray(0, size), { label: "x.age" }));
      expect(err).toBeInstanceOf(type);
      expect(err.message).toBe(message);
    }
  });

  test("with the recorded size, any cut is a truncation", async () => {
    const err = await failure(decryptWith(aliceKeys, file.subarray(0, payloadAt(3, 100)), { label: "x.age", expectedSize: file.length }));
    expect(err).toBeInstanceOf(AgeTruncatedError);
    expect(err.message).toBe(`x.age: truncated: it ends at byte ${payloadAt(3, 100)} of ${file.length}`);
  });

  test("bytes after the final chunk", async () => {
    const longer = new Uint8Array(Buffer.concat([file, new Uint8Array(SEALED_CHUNK + 10)]));
    expect(await failure(decryptWith(aliceKeys, longer))).toBeInstanceOf(AgeAuthenticationError);
  });
});

describe("streams pull: bounded memory", () => {
  test("reading the first pieces of an encrypted 1 GiB source reads only a few MiB of it", async () => {
    let produced = 0;
    const piece = new Uint8Array(1 << 20);
    const source = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          produced += piece.length;
          c.enqueue(piece);
          if (produced >= 1 << 30) c.close();
        },
      },
      { highWaterMark: 0 },
    );
    const reader = encryptStream({ kind: "passphrase", passphrase: "x", workFactor: 10 }, source).getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    expect(produced).toBeLessThanOrEqual(6 << 20);
    await reader.cancel();
  });
});
