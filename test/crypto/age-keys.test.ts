// Recipients, identity and passphrase files: what age reads, and clear refusals naming file and line.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateHybridIdentity, generateX25519Identity, identityToRecipient } from "age-encryption";
import { loadDecryptionKeys, loadEncryptionKey, parseIdentityFile, parsePassphraseFile, parseRecipientsFile } from "../../src/crypto/index.ts";
import { FileError, UsageError } from "../../src/errors.ts";
import { tempDir } from "../helpers.ts";
import { VECTORS } from "./age-cli.ts";

const R1 = "age17xdy5hyejpacq3l8jq4lavjhvhrr289gu00mjcqjgrumgsamyqhq8csw9x"; // the vector key's

function usage(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("expected a UsageError");
}

describe("recipients file", () => {
  test("one per line; comments, blank lines and CRLF as age -R allows", async () => {
    const r2 = await identityToRecipient(await generateX25519Identity());
    expect(parseRecipientsFile(`# keys\r\n\r\n${R1}\r\n# off-site\n${r2}`, "r.txt")).toEqual([R1, r2]);
  });

  test("anything else is refused with file and line, without echoing the line", async () => {
    const pq = await identityToRecipient(await generateHybridIdentity());
    expect(usage(() => parseRecipientsFile(`${R1}\nssh-ed25519 AAAAC3Nza user@host\n`, "r.txt"))).toBe("r.txt:2: SSH recipients are not supported; use an age1... X25519 recipient");
    expect(usage(() => parseRecipientsFile(`# c\n${pq}\n`, "r.txt"))).toBe("r.txt:2: post-quantum and tag recipients cannot be read by age 1.1; use an X25519 recipient");
    expect(usage(() => parseRecipientsFile(`${R1.slice(0, -1)}y\n`, "r.txt"))).toBe("r.txt:1: not a valid age1... recipient");
    expect(usage(() => parseRecipientsFile(`${R1} # trailing comment\n`, "r.txt"))).toBe("r.txt:1: not a valid age1... recipient");
    expect(usage(() => parseRecipientsFile(`  ${R1}\n`, "r.txt"))).toBe("r.txt:1: leading or trailing white space (age would refuse the line too)");
    expect(usage(() => parseRecipientsFile(`${R1}\n  # indented comment\n`, "r.txt"))).toBe("r.txt:2: leading or trailing white space (age would refuse the line too)");
    expect(usage(() => parseRecipientsFile("hello\n", "r.txt"))).toBe("r.txt:1: not an age recipient (age1...)");
    expect(usage(() => parseRecipientsFile("# only comments\n\n", "r.txt"))).toBe("r.txt: no recipients in the file");
  });
});

describe("identity file", () => {
  test("an age-keygen file: comments and the key", async () => {
    const text = await Bun.file(join(VECTORS, "x25519-key.txt")).text();
    const ids = parseIdentityFile(text, "key.txt");
    expect(ids.length).toBe(1);
    expect(ids[0]).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
  });

  test("other keys are refused without printing them", async () => {
    const pq = await generateHybridIdentity();
    const m = usage(() => parseIdentityFile(`# c\n${pq}\n`, "k.txt"));
    expect(m).toBe("k.txt:2: not an age X25519 identity (AGE-SECRET-KEY-1...); plugin, post-quantum and SSH keys are not supported");
    const id = await generateX25519Identity();
    const broken = id.slice(0, -1) + (id.endsWith("Q") ? "P" : "Q");
    const m2 = usage(() => parseIdentityFile(broken, "k.txt"));
    expect(m2).toBe("k.txt:1: not a valid AGE-SECRET-KEY-1... identity");
    expect(m2).not.toContain(broken.slice(16));
    expect(usage(() => parseIdentityFile("", "k.txt"))).toBe("k.txt: no identities in the file");
  });
});

describe("passphrase file", () => {
  test("the first line, without its line end; the rest is ignored", () => {
    expect(parsePassphraseFile("  two words \nnext\n", "p")).toBe("  two words ");
    expect(parsePassphraseFile("crlf\r\n", "p")).toBe("crlf");
    expect(parsePassphraseFile("no newline", "p")).toBe("no newline");
    expect(usage(() => parsePassphraseFile("\nsecond", "p"))).toBe("p: the first line (the passphrase) is empty");
  });
});

describe("loading keys", () => {
  test("recipients and files together, duplicates once; nothing asked means no encryption", async () => {
    const dir = tempDir("age-keys");
    writeFileSync(join(dir, "r"), `${R1}\n`);
    expect(await loadEncryptionKey({ recipients: [R1], recipientsFiles: [join(dir, "r")] })).toEqual({ kind: "recipients", recipients: [R1] });
    expect(await loadEncryptionKey({})).toBeNull();
  });

  test("a passphrase with recipients is refused, as age does", async () => {
    const dir = tempDir("age-keys");
    writeFileSync(join(dir, "p"), "secret\n");
    const err = await loadEncryptionKey({ recipients: [R1], passphraseFile: join(dir, "p") }).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe("a passphrase cannot be combined with recipients (age allows only one or the other)");
    expect(await loadEncryptionKey({ passphraseFile: join(dir, "p") })).toEqual({ kind: "passphrase", passphrase: "secret", workFactor: undefined });
    const w = await loadEncryptionKey({ passphraseFile: join(dir, "p"), workFactor: 21 }).catch((e) => e);
    expect(w.message).toBe("scrypt work factor 21: must be a whole number from 10 to 20");
  });

  test("a bad --recipient names only its start; a missing file is a FileError", async () => {
    const err = await loadEncryptionKey({ recipients: ["age1zzzzzzzzzzzzzzzzzz"] }).catch((e) => e);
    expect(err.message).toBe("recipient age1zzzzzzzz...: not a valid age1... recipient");
    const missing = await loadDecryptionKeys({ identityFiles: ["/nonexistent/key.txt"] }).catch((e) => e);
    expect(missing).toBeInstanceOf(FileError);
    expect(missing.message).toBe("Cannot read /nonexistent/key.txt: no such file or directory");
  });

  test("identities from several files and a passphrase", async () => {
    const dir = tempDir("age-keys");
    writeFileSync(join(dir, "p"), "pw\n");
    const keys = await loadDecryptionKeys({ identityFiles: [join(VECTORS, "x25519-key.txt"), join(VECTORS, "x25519-key.txt")], passphraseFile: join(dir, "p") });
    expect([keys.identities.length, keys.passphrases]).toEqual([2, ["pw"]]);
  });
});
