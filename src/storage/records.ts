// Pure codecs for DirectoryStorage record files (all integers big-endian).
// Validity problems in decoded records are thrown as CorruptRecordError with
// the path and byte offset, so callers never act on a half-understood record.
import { createHash } from "node:crypto";
import { CorruptRecordError } from "../errors.ts";
import { count } from "../plural.ts";

export const TRANSACTION_MAGIC = 0x47400776;
export const REVISION_MAGIC = 0xbdb82a71;
export const POINTER_MAGIC = 0x0bfee8ec;
export const TRANSACTION_HEADER = 60;
export const REVISION_HEADER = 72;
const ZERO_TID = "0000000000000000";

export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s.toUpperCase();
}

export function hexToBytes(hex: string): Uint8Array {
  if (!/^([0-9A-Fa-f]{2})*$/.test(hex)) throw new RangeError(`not a hex string: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function md5(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("md5").update(bytes).digest());
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// ---- Transaction ids (ZODB TimeStamps) ----

/** The tid of an instant: minutes since 1900 in 4 bytes, then seconds scaled by 2^32/60. */
export function tidFromDate(date: Date): string {
  const minutes =
    ((((date.getUTCFullYear() - 1900) * 12 + date.getUTCMonth()) * 31 + date.getUTCDate() - 1) * 24 +
      date.getUTCHours()) *
      60 +
    date.getUTCMinutes();
  const seconds = date.getUTCSeconds() + date.getUTCMilliseconds() / 1000;
  const fraction = Math.min(Math.floor((seconds * 2 ** 32) / 60), 2 ** 32 - 1);
  return minutes.toString(16).toUpperCase().padStart(8, "0") + fraction.toString(16).toUpperCase().padStart(8, "0");
}

/** The instant a tid stands for (to the millisecond). */
export function dateFromTid(tidHex: string): Date {
  let minutes = parseInt(tidHex.slice(0, 8), 16);
  const seconds = (parseInt(tidHex.slice(8), 16) * 60) / 2 ** 32;
  const minute = minutes % 60;
  minutes = Math.floor(minutes / 60);
  const hour = minutes % 24;
  minutes = Math.floor(minutes / 24);
  const day = (minutes % 31) + 1;
  minutes = Math.floor(minutes / 31);
  const month = minutes % 12;
  const year = Math.floor(minutes / 12) + 1900;
  return new Date(Date.UTC(year, month, day, hour, minute, 0) + Math.round(seconds * 1000));
}

/** A tid as people read it: `YYYY-MM-DD HH:MM:SS UTC`. */
export function formatTid(tidHex: string): string {
  if (tidHex === ZERO_TID) return "(none)";
  return dateFromTid(tidHex).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

/** The next tid after `tidHex` (for strictly increasing ids in the same instant). */
export function nextTid(tidHex: string): string {
  return (BigInt(`0x${tidHex}`) + 1n).toString(16).toUpperCase().padStart(16, "0");
}

// ---- 8-byte values: x.serial, x.oid, x.packed ----

export function decodeU64Hex(bytes: Uint8Array, path: string): string {
  if (bytes.length !== 8) throw new CorruptRecordError(path, 0, `expected 8 bytes, found ${bytes.length}`);
  return bytesToHex(bytes);
}

// ---- Current-revision pointer o<OID>.c ----

export function encodePointer(serialHex: string): Uint8Array {
  return hexToBytes(serialHex);
}

/** Serial named by a pointer file, in its 8-byte form or the old 12-byte form with magic. */
export function decodePointer(bytes: Uint8Array, path: string): string {
  if (bytes.length === 8) return bytesToHex(bytes);
  if (bytes.length === 12) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0) !== POINTER_MAGIC) throw new CorruptRecordError(path, 0, "bad pointer magic");
    return bytesToHex(bytes.subarray(4));
  }
  throw new CorruptRecordError(path, 0, `pointer must be 8 or 12 bytes, found ${bytes.length}`);
}

// ---- Transaction file ----

export interface TransactionRecord {
  tid: string;
  previousTid: string;
  user: Uint8Array;
  description: Uint8Array;
  extension: Uint8Array;
  oids: string[];
}

export interface DecodedTransaction extends TransactionRecord {
  /** true if an md5 is stored and matches, false if stored and wrong, null if absent (all zero). */
  md5Valid: boolean | null;
}

export function encodeTransaction(t: TransactionRecord, withMd5 = true): Uint8Array {
  const oidsLength = t.oids.length * 8;
  const length = TRANSACTION_HEADER + t.user.length + t.description.length + t.extension.length + oidsLength;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, TRANSACTION_MAGIC); // [0:4] magic
  view.setUint32(4, length); // [4:8] file length
  out.set(hexToBytes(t.tid), 8); // [8:16] tid; [16:24] zero
  out.set(hexToBytes(t.previousTid), 24); // [24:32] previous tid
  view.setUint16(48, t.user.length); // [48:60] section lengths
  view.setUint16(50, t.description.length);
  view.setUint16(52, t.extension.length);
  view.setUint32(54, oidsLength);
  view.setUint16(58, 0); // version section: always empty
  let off = TRANSACTION_HEADER;
  for (const part of [t.user, t.description, t.extension]) {
    out.set(part, off);
    off += part.length;
  }
  for (const oid of t.oids) {
    out.set(hexToBytes(oid), off);
    off += 8;
  }
  if (withMd5) out.set(md5(out.subarray(48)), 32); // [32:48] md5 of [48:]
  return out;
}

export function decodeTransaction(bytes: Uint8Array, path: string): DecodedTransaction {
  if (bytes.length < TRANSACTION_HEADER) {
    throw new CorruptRecordError(path, bytes.length, `transaction file truncated (${count(bytes.length, "byte")})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== TRANSACTION_MAGIC) throw new CorruptRecordError(path, 0, "bad transaction magic");
  const length = view.getUint32(4);
  if (length !== bytes.length) {
    throw new CorruptRecordError(path, 4, `length field says ${count(length, "byte")}, file has ${bytes.length}`);
  }
  const userLength = view.getUint16(48);
  const descriptionLength = view.getUint16(50);
  const extensionLength = view.getUint16(52);
  const oidsLength = view.getUint32(54);
  const versionLength = view.getUint16(58);
  if (versionLength !== 0) throw new CorruptRecordError(path, 58, "version section must be empty");
  if (oidsLength % 8 !== 0) throw new CorruptRecordError(path, 54, "oids section is not a multiple of 8 bytes");
  if (TRANSACTION_HEADER + userLength + descriptionLength + extensionLength + oidsLength !== length) {
    throw new CorruptRecordError(path, 48, "section lengths do not add up to the file length");
  }
  const storedMd5 = bytes.subarray(32, 48);
  const md5Valid = isZero(storedMd5) ? null : equalBytes(storedMd5, md5(bytes.subarray(48)));
  let off = TRANSACTION_HEADER;
  const take = (n: number) => bytes.slice(off, (off += n));
  const user = take(userLength);
  const description = take(descriptionLength);
  const extension = take(extensionLength);
  const oids: string[] = [];
  for (let i = 0; i < oidsLength; i += 8) oids.push(bytesToHex(take(8)));
  return {
    tid: bytesToHex(bytes.subarray(8, 16)),
    previousTid: bytesToHex(bytes.subarray(24, 32)),
    user,
    description,
    extension,
    oids,
    md5Valid,
  };
}

// ---- Object revision file ----

export interface RevisionRecord {
  oid: string;
  undoneFrom: string;
  previousSerial: string;
  serial: string;
  pickle: Uint8Array;
}

export interface DecodedRevision extends RevisionRecord {
  md5Valid: boolean | null;
}

export function encodeRevision(r: RevisionRecord, withMd5 = true): Uint8Array {
  const length = REVISION_HEADER + r.pickle.length;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, REVISION_MAGIC); // [0:4] magic
  view.setUint32(4, length); // [4:8] file length
  out.set(hexToBytes(r.oid), 8); // [8:16] oid
  out.set(hexToBytes(r.undoneFrom), 16); // [16:24] undone-from serial; [24:40] zero
  out.set(hexToBytes(r.previousSerial), 56); // [56:64] previous serial
  out.set(hexToBytes(r.serial), 64); // [64:72] this serial
  out.set(r.pickle, REVISION_HEADER);
  if (withMd5) out.set(md5(out.subarray(56)), 40); // [40:56] md5 of [56:]
  return out;
}

export function decodeRevision(bytes: Uint8Array, path: string): DecodedRevision {
  if (bytes.length < REVISION_HEADER) {
    throw new CorruptRecordError(path, bytes.length, `object revision truncated (${count(bytes.length, "byte")})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== REVISION_MAGIC) throw new CorruptRecordError(path, 0, "bad object revision magic");
  const length = view.getUint32(4);
  if (length !== bytes.length) {
    throw new CorruptRecordError(path, 4, `length field says ${count(length, "byte")}, file has ${bytes.length}`);
  }
  const storedMd5 = bytes.subarray(40, 56);
  return {
    oid: bytesToHex(bytes.subarray(8, 16)),
    undoneFrom: bytesToHex(bytes.subarray(16, 24)),
    previousSerial: bytesToHex(bytes.subarray(56, 64)),
    serial: bytesToHex(bytes.subarray(64, 72)),
    pickle: bytes.slice(REVISION_HEADER),
    md5Valid: isZero(storedMd5) ? null : equalBytes(storedMd5, md5(bytes.subarray(56))),
  };
}

export { ZERO_TID };
