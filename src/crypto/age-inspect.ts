// What can be checked of an age file without a key: the header's syntax,
// what it is encrypted to, and whether its size is one STREAM can have.
// Authenticity (header MAC, chunk tags) needs the file key.
import { describeRecipients } from "./age-file-key.ts";
import type { AgeHeader } from "./age-header.ts";
import { ByteReader, type ByteSource } from "./byte-source.ts";
import { readHeader } from "./age-stream.ts";
import { parseAgeHeader } from "./age-header.ts";
import { PAYLOAD_NONCE, plainSize } from "./stream-cipher.ts";

export interface AgeReport {
  /** One entry per stanza: "X25519", "scrypt", ... */
  recipientTypes: string[];
  /** "2 X25519 recipients", "a passphrase (scrypt)". */
  recipients: string;
  /** scrypt's log2 N, for a passphrase file. */
  scryptWorkFactor?: number;
  headerSize: number;
  fileSize: number;
  /** Plaintext size the chunk structure implies; null when the size is no valid age length. */
  plainSize: number | null;
  /** Why the file cannot be whole (truncated), or null. */
  problem: string | null;
}

/** Judge a parsed header and the whole file's size. Pure. */
export function describeAge(header: AgeHeader, fileSize: number): AgeReport {
  const scrypt = header.stanzas.find((s) => s.type === "scrypt");
  const payload = fileSize - header.size - PAYLOAD_NONCE;
  const plain = payload < 0 ? null : plainSize(payload);
  let problem: string | null = null;
  if (payload < 0) problem = `truncated: the file ends ${payload < -PAYLOAD_NONCE ? "inside its header" : "inside the payload nonce"}`;
  else if (plain === null) problem = `truncated: ${payload} payload bytes is no valid age payload length`;
  return {
    recipientTypes: header.stanzas.map((s) => s.type),
    recipients: describeRecipients(header),
    ...(scrypt && scrypt.args[1] !== undefined ? { scryptWorkFactor: Number(scrypt.args[1]) } : {}),
    headerSize: header.size,
    fileSize,
    plainSize: plain,
    problem,
  };
}

/** Read `input` to its end (counting, not keeping, the payload) and report what can be checked without a key. */
export async function inspectAge(input: ByteSource, label?: string): Promise<AgeReport> {
  const reader = new ByteReader(input);
  const headerBytes = await readHeader(reader, label);
  while ((await reader.read()) !== null);
  return describeAge(parseAgeHeader(headerBytes, label)!, reader.consumed);
}
