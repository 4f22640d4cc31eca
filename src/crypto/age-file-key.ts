// Header and file key through typage (age-encryption): it wraps the file key
// for X25519 recipients, encodes the header and its MAC, and on the way back
// unwraps the file key and checks the MAC. The payload is ours
// (age-payload.ts), so we need the file key typage drew: a recipient that
// records it and adds no stanza hands it over.
import { scrypt } from "node:crypto";
import { randomBytes } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { Decrypter, Encrypter, Stanza, type Recipient } from "age-encryption";
import { AgeHeaderError, AgeNoIdentityError } from "./age-errors.ts";
import { type AgeHeader, parseAgeHeader } from "./age-header.ts";
import type { DecryptionKeys, EncryptionKey } from "./age-keys.ts";
import { PAYLOAD_NONCE, TAG } from "./stream-cipher.ts";

const SCRYPT_LABEL = "age-encryption.org/v1/scrypt";

/**
 * age's scrypt recipient (as typage's ScryptRecipient, which index.js does
 * not export), with Node's native scrypt run off the main thread.
 */
class ScryptRecipient implements Recipient {
  constructor(
    private readonly passphrase: string,
    private readonly logN: number,
  ) {}
  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const N = 2 ** this.logN;
    const wrapKey = await new Promise<Buffer>((resolve, reject) =>
      scrypt(this.passphrase, Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]), 32, { N, r: 8, p: 1, maxmem: 128 * N * 8 + (32 << 20) }, (err, key) =>
        err ? reject(err) : resolve(key),
      ),
    );
    const body = chacha20poly1305(wrapKey, new Uint8Array(12)).encrypt(fileKey);
    return [new Stanza(["scrypt", salt.toString("base64").replace(/=+$/, ""), String(this.logN)], body)];
  }
}

/** A new header for `key`, and the file key it wraps. */
export async function buildHeader(key: EncryptionKey): Promise<{ header: Uint8Array; fileKey: Uint8Array }> {
  const encrypter = new Encrypter();
  let fileKey: Uint8Array | null = null;
  if (key.kind === "passphrase") encrypter.addRecipient(new ScryptRecipient(key.passphrase, key.workFactor ?? 18));
  else for (const r of key.recipients) encrypter.addRecipient(r);
  encrypter.addRecipient({
    wrapFileKey(k: Uint8Array) {
      fileKey = k.slice();
      return [];
    },
  });
  // An empty file: header || payload nonce || one empty sealed chunk (a tag).
  const whole = await encrypter.encrypt(new Uint8Array(0));
  const header = whole.slice(0, whole.length - PAYLOAD_NONCE - TAG);
  if (fileKey === null || header[header.length - 1] !== 0x0a) throw new Error("age-encryption did not produce the expected header");
  return { header, fileKey };
}

/** "2 X25519 recipients", "a passphrase (scrypt)": what a header is encrypted to, for messages. */
export function describeRecipients(header: AgeHeader): string {
  const counts = new Map<string, number>();
  for (const s of header.stanzas) counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
  const parts = [...counts].map(([type, n]) => (type === "scrypt" ? "a passphrase (scrypt)" : `${n} ${type} recipient${n === 1 ? "" : "s"}`));
  return parts.length > 0 ? parts.join(", ") : "no recipients";
}

// File keys already opened, per key set and exact header: checkAgeKey and
// the decryption after it (or verify, then restore) pay for scrypt once.
const opened = new WeakMap<DecryptionKeys, Map<string, Uint8Array>>();

/** The file key of the file whose header is `headerBytes` (exactly the header), with the first identity or passphrase that opens it. */
export async function openFileKey(headerBytes: Uint8Array, keys: DecryptionKeys, label?: string): Promise<Uint8Array> {
  const header = parseAgeHeader(headerBytes, label);
  if (header === null || header.size !== headerBytes.length) throw new AgeHeaderError(label, "incomplete header");
  const to = describeRecipients(header);
  if (keys.identities.length === 0 && keys.passphrases.length === 0) {
    throw new AgeNoIdentityError(label, `encrypted to ${to}, and no identity or passphrase was given`);
  }
  const memo = opened.get(keys) ?? new Map<string, Uint8Array>();
  opened.set(keys, memo);
  const id = Buffer.from(headerBytes).toString("latin1");
  const known = memo.get(id);
  if (known) return known;
  const decrypter = new Decrypter();
  for (const i of keys.identities) decrypter.addIdentity(i);
  for (const p of keys.passphrases) decrypter.addPassphrase(p);
  try {
    const fileKey = await decrypter.decryptHeader(headerBytes);
    memo.set(id, fileKey);
    return fileKey;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (msg.includes("no identity matched")) {
      const tried = [keys.identities.length > 0 ? `${keys.identities.length} identit${keys.identities.length === 1 ? "y" : "ies"}` : "", keys.passphrases.length > 0 ? "a passphrase" : ""];
      throw new AgeNoIdentityError(label, `no identity matched (encrypted to ${to}; tried ${tried.filter(Boolean).join(" and ")})`);
    }
    if (msg.includes("HMAC")) throw new AgeHeaderError(label, "the header MAC does not match: the header was altered", { cause: err });
    throw new AgeHeaderError(label, msg, { cause: err });
  }
}
