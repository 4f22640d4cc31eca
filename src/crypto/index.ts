// The age encryption layer: one import for the rest of dsbackup.
export { AgeAuthenticationError, AgeHeaderError, AgeNoIdentityError, AgeTruncatedError } from "./age-errors.ts";
export { type AgeHeader, type AgeStanza, looksLikeAge, parseAgeHeader } from "./age-header.ts";
export { type AgeReport, describeAge, inspectAge } from "./age-inspect.ts";
export {
  type DecryptionKeys,
  type DecryptionOptions,
  type EncryptionKey,
  type EncryptionOptions,
  loadDecryptionKeys,
  loadEncryptionKey,
  parseIdentityFile,
  parsePassphraseFile,
  parseRecipientsFile,
} from "./age-keys.ts";
export { type DecryptOptions, checkAgeKey, decryptStream, encryptStream } from "./age-stream.ts";
export { type ByteSource } from "./byte-source.ts";
export { plainSize, sealedSize } from "./stream-cipher.ts";
export {
  type EncryptingSink,
  type OpenArchiveOptions,
  AGE_SUFFIX,
  NO_KEYS,
  checkArchiveKeys,
  encryptingSink,
  isEncryptedName,
  openArchiveBytes,
  withoutLabel,
} from "./archive-codec.ts";
