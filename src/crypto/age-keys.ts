// What encrypts and what decrypts: recipients, identities and passphrases,
// read from the files `age -R`, `age -i` and a passphrase file would hold.
// Messages name the file and line, never a secret.
import { readFile } from "node:fs/promises";
import { Decrypter, Encrypter } from "age-encryption";
import { UsageError, fileError } from "../errors.ts";

/** What a new file is encrypted to: X25519 recipients, or one passphrase (scrypt), never both (as age). */
export type EncryptionKey =
  | { kind: "recipients"; recipients: string[] }
  | { kind: "passphrase"; passphrase: string; /** log2 of scrypt's N; age's default 18. */ workFactor?: number };

/** Everything tried on a file to decrypt: X25519 identities and passphrases. */
export interface DecryptionKeys {
  identities: string[];
  passphrases: string[];
}

/**
 * The meaningful lines of a key file with their numbers: as age reads them,
 * without blank lines and lines starting with `#`, a trailing CR dropped.
 * age trims nothing else, so neither do we: a file we take, age takes.
 */
function keyLines(text: string, path: string): { line: string; no: number }[] {
  const out: { line: string; no: number }[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line === "" || line.startsWith("#")) return;
    if (line !== line.trim()) throw new UsageError(`${path}:${i + 1}: leading or trailing white space (age would refuse the line too)`);
    out.push({ line, no: i + 1 });
  });
  return out;
}

/** Why `s` is no X25519 recipient, or null when it is one. */
export function recipientProblem(s: string): string | null {
  if (s.startsWith("ssh-")) return "SSH recipients are not supported; use an age1... X25519 recipient";
  if (s.startsWith("age1pq1") || s.startsWith("age1tag")) return "post-quantum and tag recipients cannot be read by age 1.1; use an X25519 recipient";
  if (!s.startsWith("age1")) return "not an age recipient (age1...)";
  try {
    new Encrypter().addRecipient(s); // typage decodes and checks the bech32 here
  } catch {
    return "not a valid age1... recipient";
  }
  return /^age1[02-9ac-hj-np-z]{58}$/.test(s) ? null : "not a valid age1... X25519 recipient (bad length or characters)";
}

/** The recipients in a recipients file (`age -R`): one per line, `#` comments and blank lines allowed. */
export function parseRecipientsFile(text: string, path: string): string[] {
  const out: string[] = [];
  for (const { line, no } of keyLines(text, path)) {
    const problem = recipientProblem(line);
    if (problem) throw new UsageError(`${path}:${no}: ${problem}`);
    out.push(line);
  }
  if (out.length === 0) throw new UsageError(`${path}: no recipients in the file`);
  return out;
}

/** The X25519 identities in an `age-keygen` file (AGE-SECRET-KEY-1..., `#` comments). */
export function parseIdentityFile(text: string, path: string): string[] {
  const out: string[] = [];
  for (const { line, no } of keyLines(text, path)) {
    if (!line.startsWith("AGE-SECRET-KEY-1")) {
      throw new UsageError(`${path}:${no}: not an age X25519 identity (AGE-SECRET-KEY-1...); plugin, post-quantum and SSH keys are not supported`);
    }
    try {
      new Decrypter().addIdentity(line);
    } catch {
      throw new UsageError(`${path}:${no}: not a valid AGE-SECRET-KEY-1... identity`);
    }
    out.push(line);
  }
  if (out.length === 0) throw new UsageError(`${path}: no identities in the file`);
  return out;
}

/** The passphrase in a passphrase file: its first line, without the line end. */
export function parsePassphraseFile(text: string, path: string): string {
  const first = text.split("\n", 1)[0]!.replace(/\r$/, "");
  if (first === "") throw new UsageError(`${path}: the first line (the passphrase) is empty`);
  return first;
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw fileError("read", path, err);
  }
}

export interface EncryptionOptions {
  /** age1... recipients given on the command line. */
  recipients?: string[];
  /** Recipients files (`age -R`). */
  recipientsFiles?: string[];
  /** A file whose first line is the passphrase (`age -p`). */
  passphraseFile?: string;
  /** scrypt work factor (log2 N) for a passphrase; default 18, as age. */
  workFactor?: number;
}

/** The key to encrypt with, or null when no encryption was asked for. */
export async function loadEncryptionKey(options: EncryptionOptions): Promise<EncryptionKey | null> {
  const recipients: string[] = [];
  for (const r of options.recipients ?? []) {
    const problem = recipientProblem(r);
    if (problem) throw new UsageError(`recipient ${r.slice(0, 12)}...: ${problem}`);
    recipients.push(r);
  }
  for (const path of options.recipientsFiles ?? []) recipients.push(...parseRecipientsFile(await readKeyFile(path), path));
  if (options.passphraseFile !== undefined) {
    if (recipients.length > 0) throw new UsageError("a passphrase cannot be combined with recipients (age allows only one or the other)");
    const w = options.workFactor;
    // typage, which decrypts ours, refuses work factors above 20.
    if (w !== undefined && !(Number.isInteger(w) && w >= 10 && w <= 20)) throw new UsageError(`scrypt work factor ${w}: must be a whole number from 10 to 20`);
    const passphrase = parsePassphraseFile(await readKeyFile(options.passphraseFile), options.passphraseFile);
    return { kind: "passphrase", passphrase, workFactor: options.workFactor };
  }
  return recipients.length > 0 ? { kind: "recipients", recipients: [...new Set(recipients)] } : null;
}

export interface DecryptionOptions {
  /** Identity files (`age-keygen` output); the caller adds DSBACKUP_IDENTITY_FILE. */
  identityFiles?: string[];
  /** A file whose first line is the passphrase. */
  passphraseFile?: string;
}

/** Every identity and passphrase given; empty lists when none (a plain archive needs none). */
export async function loadDecryptionKeys(options: DecryptionOptions): Promise<DecryptionKeys> {
  const identities: string[] = [];
  for (const path of options.identityFiles ?? []) identities.push(...parseIdentityFile(await readKeyFile(path), path));
  const passphrases = options.passphraseFile === undefined ? [] : [parsePassphraseFile(await readKeyFile(options.passphraseFile), options.passphraseFile)];
  return { identities, passphrases };
}
