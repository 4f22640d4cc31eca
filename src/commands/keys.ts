// The encryption options of the commands, read into keys: backup's
// recipients or passphrase, and the identities or passphrase that restore,
// verify and rebuild-index decrypt with. Keys are never printed.
import { loadDecryptionKeys, loadEncryptionKey, type DecryptionKeys, type EncryptionKey } from "../crypto/index.ts";
import type { CommandContext } from "./context.ts";

export interface EncryptOptions {
  /** `--recipient AGE1...` (repeatable): encrypt each archive to this X25519 recipient (NAME.tgz.age). Default: no encryption. */
  recipient?: string | string[];
  /** `--recipients-file FILE` (repeatable): encrypt to every recipient in FILE (one per line, `#` comments, as `age -R`). */
  recipientsFile?: string | string[];
  /** `--passphrase-file FILE`: encrypt with the passphrase on FILE's first line (scrypt, as `age -p`); not with recipients. */
  passphraseFile?: string;
}

export interface DecryptOptions {
  /** `--identity FILE` (repeatable): decrypt .tgz.age archives with the `age-keygen` identities in FILE; also DSBACKUP_IDENTITY_FILE. */
  identity?: string | string[];
  /** `--passphrase-file FILE`: decrypt with the passphrase on FILE's first line. */
  passphraseFile?: string;
}

/** Environment variable naming one more identity file (after the --identity ones). */
export const IDENTITY_ENV = "DSBACKUP_IDENTITY_FILE";

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat().map(String));

/** The key backup encrypts with, or null for plain archives. */
export function encryptionKey(options: EncryptOptions): Promise<EncryptionKey | null> {
  return loadEncryptionKey({
    recipients: list(options.recipient),
    recipientsFiles: list(options.recipientsFile),
    passphraseFile: options.passphraseFile === undefined ? undefined : String(options.passphraseFile),
  });
}

/** Every identity and passphrase given (empty when none: plain archives need none). */
export function decryptionKeys(options: DecryptOptions, ctx: CommandContext): Promise<DecryptionKeys> {
  const fromEnv = ctx.env[IDENTITY_ENV];
  return loadDecryptionKeys({
    identityFiles: [...list(options.identity), ...(fromEnv ? [fromEnv] : [])],
    passphraseFile: options.passphraseFile === undefined ? undefined : String(options.passphraseFile),
  });
}

/** Whether any key was given, so a keyless verify can say what it could not check. */
export function hasKeys(keys: DecryptionKeys): boolean {
  return keys.identities.length > 0 || keys.passphrases.length > 0;
}
