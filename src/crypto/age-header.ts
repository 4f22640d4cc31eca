// Pure codec of the age v1 text header (age-encryption.org/v1, "Header"):
//
//   age-encryption.org/v1\n
//   -> TYPE ARG...\n            one stanza: arguments, then its body in
//   BASE64 (64 chars)\n         unpadded base64 lines of 64 characters,
//   BASE64 (< 64 chars)\n       the last one shorter (possibly empty)
//   --- BASE64(HMAC-SHA256)\n   the MAC over everything before " BASE64"
//
// Parsing needs no key: it tells what the file is encrypted to. The MAC is
// checked by typage once a key has opened the file key.
import { AgeHeaderError } from "./age-errors.ts";

export const AGE_MAGIC = "age-encryption.org/v1\n";
/** Longest header we read before calling the input something else (a real one is a few hundred bytes). */
export const MAX_HEADER = 1024 * 1024;

export interface AgeStanza {
  /** The recipient type: "X25519", "scrypt", or another tool's. */
  type: string;
  /** The arguments after the type. */
  args: string[];
  body: Uint8Array;
}

export interface AgeHeader {
  stanzas: AgeStanza[];
  mac: Uint8Array;
  /** Header bytes, through the newline after the MAC. */
  size: number;
}

const ARG = /^[\x21-\x7e]+$/;
const B64 = /^[A-Za-z0-9+/]*$/;

/** True when `prefix` starts like an age v1 file (enough to tell it from a gzip stream). */
export function looksLikeAge(prefix: Uint8Array): boolean {
  if (prefix.length < AGE_MAGIC.length) return false;
  for (let i = 0; i < AGE_MAGIC.length; i++) if (prefix[i] !== AGE_MAGIC.charCodeAt(i)) return false;
  return true;
}

/** Strict unpadded, canonical base64 (the spec forbids padding and non-zero trailing bits). */
function decodeBase64(s: string, what: string, label: string | undefined): Uint8Array {
  if (!B64.test(s) || s.length % 4 === 1) throw new AgeHeaderError(label, `${what} is not unpadded base64`);
  const bytes = new Uint8Array(Buffer.from(s, "base64"));
  if (Buffer.from(bytes).toString("base64").replace(/=+$/, "") !== s) throw new AgeHeaderError(label, `${what} is not canonical base64`);
  return bytes;
}

/**
 * Parse the header at the start of `bytes`. Returns null when `bytes` ends
 * before the header does (read more and call again); throws AgeHeaderError
 * when it is no age v1 header.
 */
export function parseAgeHeader(bytes: Uint8Array, label?: string): AgeHeader | null {
  let pos = 0;
  let lineNo = 0;
  // Next line without its "\n"; null when the newline is not in `bytes` yet.
  const nextLine = (): string | null => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) {
      if (bytes.length - pos > MAX_HEADER || bytes.length > MAX_HEADER) throw new AgeHeaderError(label, `no header end in the first ${MAX_HEADER} bytes`);
      return null;
    }
    const line = Buffer.from(bytes.buffer, bytes.byteOffset + pos, end - pos).toString("latin1");
    pos = end + 1;
    lineNo++;
    return line;
  };
  const magicLen = Math.min(bytes.length, AGE_MAGIC.length);
  for (let i = 0; i < magicLen; i++) {
    if (bytes[i] !== AGE_MAGIC.charCodeAt(i)) throw new AgeHeaderError(label, "it does not start with the age v1 version line");
  }
  if (nextLine() === null) return null;
  const stanzas: AgeStanza[] = [];
  for (;;) {
    const line = nextLine();
    if (line === null) return null;
    if (line.startsWith("--- ")) {
      const mac = decodeBase64(line.slice(4), "the header MAC", label);
      if (mac.length !== 32) throw new AgeHeaderError(label, "the header MAC is not 32 bytes");
      return { stanzas, mac, size: pos };
    }
    if (!line.startsWith("-> ")) throw new AgeHeaderError(label, `header line ${lineNo} is neither a stanza nor the MAC line`);
    const words = line.slice(3).split(" ");
    if (!words.every((w) => ARG.test(w))) throw new AgeHeaderError(label, `header line ${lineNo}: malformed stanza arguments`);
    const parts: Uint8Array[] = [];
    for (;;) {
      const b = nextLine();
      if (b === null) return null;
      if (b.length > 64) throw new AgeHeaderError(label, `header line ${lineNo}: stanza body line longer than 64 characters`);
      parts.push(decodeBase64(b, `header line ${lineNo}`, label));
      if (b.length < 64) break;
    }
    stanzas.push({ type: words[0]!, args: words.slice(1), body: new Uint8Array(Buffer.concat(parts)) });
  }
}
