// Pure encoder/decoder for POSIX ustar (IEEE Std 1003.1-1988 / "ustar\0" "00")
// 512-byte tar headers, with the two extensions every reader we care about
// (GNU tar, bsdtar, Python tarfile) understands:
//   - a PAX 'x' extended header carrying `path=` when a name does not fit the
//     ustar name/prefix split;
//   - base-256 (GNU/star) binary encoding of the size field for files
//     >= 8 GiB (the octal field holds at most 11 digits = 8 GiB - 1).
//
// Header layout (offsets in bytes, all numeric fields octal ASCII):
//     0  name      100   NUL-padded; NUL-terminated only if shorter than 100
//   100  mode        8   7 octal digits + NUL        ("0000644\0")
//   108  uid         8   7 octal digits + NUL
//   116  gid         8   7 octal digits + NUL
//   124  size       12   11 octal digits + NUL, or base-256 (first byte 0x80)
//   136  mtime      12   11 octal digits + NUL
//   148  chksum      8   6 octal digits + NUL + space ("012345\0 ")
//   156  typeflag    1   '0' file, '5' directory, 'x' PAX extended header
//   157  linkname  100
//   257  magic       6   "ustar\0"
//   263  version     2   "00"
//   265  uname      32
//   297  gname      32
//   329  devmajor    8   7 octal digits + NUL
//   337  devminor    8   7 octal digits + NUL
//   345  prefix    155   leading directories of a long path, without the '/'
//   500  (pad)      12   zero
// The checksum is the unsigned byte sum of the header with the chksum field
// taken as eight spaces.

export const BLOCK = 512;

export const Off = {
  name: 0,
  mode: 100,
  uid: 108,
  gid: 116,
  size: 124,
  mtime: 136,
  chksum: 148,
  typeflag: 156,
  linkname: 157,
  magic: 257,
  version: 263,
  uname: 265,
  gname: 297,
  devmajor: 329,
  devminor: 337,
  prefix: 345,
} as const;

export type TypeFlag = "0" | "5" | "x";

export interface HeaderFields {
  /** Path inside the archive; directories should end with "/". */
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (integer). */
  mtime: number;
  type: TypeFlag;
  uname?: string;
  gname?: string;
}

export interface DecodedHeader extends Required<HeaderFields> {
  /** false if the stored checksum does not match. */
  checksumOk: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Largest value an octal field of `width` bytes (width-1 digits + NUL) holds. */
function octalMax(width: number): number {
  return 8 ** (width - 1) - 1;
}

function writeOctal(buf: Uint8Array, off: number, width: number, value: number): void {
  // width-1 zero-padded digits followed by NUL, as GNU tar and Python write.
  let v = Math.floor(value);
  for (let i = width - 2; i >= 0; i--) {
    buf[off + i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  buf[off + width - 1] = 0;
}

function writeBase256(buf: Uint8Array, off: number, width: number, value: number): void {
  // GNU/star: first byte 0x80 marks a positive big-endian binary number.
  let v = value;
  for (let i = width - 1; i >= 1; i--) {
    buf[off + i] = v % 256;
    v = Math.floor(v / 256);
  }
  buf[off] = 0x80;
}

function writeNumber(buf: Uint8Array, off: number, width: number, value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`tar header: bad ${field} ${value}`);
  if (value <= octalMax(width)) writeOctal(buf, off, width, value);
  else writeBase256(buf, off, width, value);
}

function readNumber(buf: Uint8Array, off: number, width: number): number {
  if (buf[off]! & 0x80) {
    let v = buf[off]! & 0x7f;
    for (let i = 1; i < width; i++) v = v * 256 + buf[off + i]!;
    return v;
  }
  let v = 0;
  let i = 0;
  while (i < width && buf[off + i] === 0x20) i++; // leading spaces
  for (; i < width; i++) {
    const c = buf[off + i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  return v;
}

function writeString(buf: Uint8Array, off: number, width: number, bytes: Uint8Array): void {
  buf.set(bytes.subarray(0, width), off);
  buf.fill(0, off + Math.min(bytes.length, width), off + width);
}

function readString(buf: Uint8Array, off: number, width: number): string {
  let end = off;
  while (end < off + width && buf[end] !== 0) end++;
  return dec.decode(buf.subarray(off, end));
}

/**
 * Split a UTF-8 path into ustar (prefix, name): name <= 100 bytes,
 * prefix <= 155 bytes, split at a '/'. Returns null if impossible.
 */
export function splitName(path: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | null {
  if (path.length <= 100) return { prefix: path.subarray(0, 0), name: path };
  if (path.length > 256) return null;
  // The prefix must be at most 155 bytes, so the '/' is at index <= 155;
  // the name after it must be at most 100 bytes and not empty.
  for (let i = Math.min(155, path.length - 2); i >= 0; i--) {
    if (path[i] !== 0x2f) continue;
    if (path.length - i - 1 > 100) return null; // earlier slashes only make it longer
    if (i === 0) return null;
    return { prefix: path.subarray(0, i), name: path.subarray(i + 1) };
  }
  return null;
}

function checksum(buf: Uint8Array, off: number): number {
  let sum = 8 * 0x20; // chksum field counted as spaces
  for (let i = 0; i < Off.chksum; i++) sum += buf[off + i]!;
  for (let i = Off.chksum + 8; i < BLOCK; i++) sum += buf[off + i]!;
  return sum;
}

/** Write one raw 512-byte ustar header block. `name`/`prefix` are pre-split bytes. */
function encodeBlock(
  f: HeaderFields,
  name: Uint8Array,
  prefix: Uint8Array,
  buf: Uint8Array,
  off: number,
): void {
  buf.fill(0, off, off + BLOCK);
  writeString(buf, off + Off.name, 100, name);
  writeNumber(buf, off + Off.mode, 8, f.mode & 0o7777, "mode");
  writeNumber(buf, off + Off.uid, 8, f.uid, "uid");
  writeNumber(buf, off + Off.gid, 8, f.gid, "gid");
  writeNumber(buf, off + Off.size, 12, f.size, "size");
  writeNumber(buf, off + Off.mtime, 12, Math.max(0, Math.floor(f.mtime)), "mtime");
  buf[off + Off.typeflag] = f.type.charCodeAt(0);
  // magic "ustar\0" + version "00"
  buf.set(USTAR_MAGIC, off + Off.magic);
  if (f.uname) writeString(buf, off + Off.uname, 32, enc.encode(f.uname));
  if (f.gname) writeString(buf, off + Off.gname, 32, enc.encode(f.gname));
  writeOctal(buf, off + Off.devmajor, 8, 0);
  writeOctal(buf, off + Off.devminor, 8, 0);
  writeString(buf, off + Off.prefix, 155, prefix);
  // chksum: 6 octal digits, NUL, space
  const sum = checksum(buf, off);
  writeOctal(buf, off + Off.chksum, 7, sum);
  buf[off + Off.chksum + 7] = 0x20;
}

const USTAR_MAGIC = new Uint8Array([0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0x30, 0x30]);

/** A header with the constant fields set: magic, version, devmajor, devminor. */
const TEMPLATE = (() => {
  const t = new Uint8Array(BLOCK);
  t.set(USTAR_MAGIC, Off.magic);
  writeOctal(t, Off.devmajor, 8, 0);
  writeOctal(t, Off.devminor, 8, 0);
  return t;
})();
/** Byte sum of TEMPLATE plus the chksum field as spaces. */
const TEMPLATE_SUM = TEMPLATE.reduce((a, b) => a + b, 0) + 8 * 0x20;

/** width-1 octal digits + NUL for 0 <= v < 2^31; returns the digits' byte sum. */
function octalSmall(buf: Uint8Array, off: number, width: number, v: number): number {
  let sum = 0;
  for (let i = off + width - 2; i >= off; i--) {
    const c = 0x30 + (v & 7);
    buf[i] = c;
    sum += c;
    v >>>= 3;
  }
  buf[off + width - 1] = 0;
  return sum;
}

/**
 * The common case, without allocation: an ASCII name of at most 100 bytes,
 * numbers below 2^31 except mtime (below 8^11), no uname/gname. Writes the
 * same bytes as the general path. Returns false (nothing useful written) if
 * the entry is not that case.
 */
function encodeFast(f: HeaderFields, buf: Uint8Array, off: number): boolean {
  const name = f.name;
  const n = name.length;
  if (f.uname || f.gname) return false;
  if (!(f.uid >= 0 && f.uid <= 0o7777777 && f.gid >= 0 && f.gid <= 0o7777777 && f.size >= 0 && f.size < 0x7fffffff)) return false;
  if (!Number.isInteger(f.uid) || !Number.isInteger(f.gid) || !Number.isInteger(f.size)) return false;
  const mtime = Math.max(0, Math.floor(f.mtime));
  if (!(mtime < 8 ** 11)) return false;
  buf.set(TEMPLATE, off);
  let sum = TEMPLATE_SUM;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
    buf[off + i] = c;
    sum += c;
  }
  sum += octalSmall(buf, off + Off.mode, 8, f.mode & 0o7777);
  sum += octalSmall(buf, off + Off.uid, 8, f.uid);
  sum += octalSmall(buf, off + Off.gid, 8, f.gid);
  sum += octalSmall(buf, off + Off.size, 12, f.size);
  // mtime may exceed 2^31: high and low parts, 11 digits in all.
  const hi = Math.floor(mtime / 0o100000000); // 8^8
  sum += octalSmall(buf, off + Off.mtime, 4, hi) - 0; // 3 digits + (overwritten) NUL
  sum += octalSmall(buf, off + Off.mtime + 3, 9, mtime - hi * 0o100000000);
  const t = f.type.charCodeAt(0);
  buf[off + Off.typeflag] = t;
  sum += t;
  octalSmall(buf, off + Off.chksum, 7, sum);
  buf[off + Off.chksum + 7] = 0x20;
  return true;
}

/** The PAX extended header record "LEN path=VALUE\n" (LEN counts itself). */
export function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLen = enc.encode(body).length;
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length !== String(len - bodyLen).length) len = bodyLen + String(len).length;
  return enc.encode(`${len}${body}`);
}

/** Name used for the PAX extended header entry (the one Python's tarfile uses). */
export const PAX_HEADER_NAME = "././@PaxHeader";

/**
 * Number of bytes `encodeHeader` writes for these fields: 512, or more when a
 * PAX extended header is needed (then 512 + padded records + 512).
 */
export function headerSize(f: HeaderFields): number {
  const path = enc.encode(f.name);
  if (splitName(path)) return BLOCK;
  const rec = paxRecord("path", f.name).length;
  return BLOCK + pad512(rec) + BLOCK;
}

export function pad512(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/**
 * Encode the header(s) for one entry into `buf` at `off` and return the number
 * of bytes written (see headerSize). `buf` must have room for them.
 */
export function encodeHeader(f: HeaderFields, buf: Uint8Array, off: number): number {
  if (encodeHeaderFast(f, buf, off)) return BLOCK;
  return encodeHeaderGeneral(f, buf, off);
}

/**
 * The one-block header of the common case (see encodeFast) at `off`, which
 * must have 512 bytes of room; false, with the block's contents undefined,
 * when the entry needs encodeHeaderGeneral. Byte for byte what it would write.
 */
export function encodeHeaderFast(f: HeaderFields, buf: Uint8Array, off: number): boolean {
  return f.name.length <= 100 && encodeFast(f, buf, off);
}

/** encodeHeader without the fast path (exported for tests). */
export function encodeHeaderGeneral(f: HeaderFields, buf: Uint8Array, off: number): number {
  const path = enc.encode(f.name);
  const split = splitName(path);
  if (split) {
    encodeBlock(f, split.name, split.prefix, buf, off);
    return BLOCK;
  }
  // PAX: an 'x' entry whose data is the records, then the real header with
  // the name truncated to 100 bytes (readers that know PAX use path=).
  const rec = paxRecord("path", f.name);
  const recPadded = pad512(rec.length);
  encodeBlock(
    { name: PAX_HEADER_NAME, mode: 0, uid: 0, gid: 0, size: rec.length, mtime: 0, type: "x" },
    enc.encode(PAX_HEADER_NAME),
    new Uint8Array(0),
    buf,
    off,
  );
  buf.set(rec, off + BLOCK);
  buf.fill(0, off + BLOCK + rec.length, off + BLOCK + recPadded);
  encodeBlock(f, path.subarray(0, 100), new Uint8Array(0), buf, off + BLOCK + recPadded);
  return BLOCK + recPadded + BLOCK;
}

/** Decode a single 512-byte header block (no PAX processing). Null for a zero block. */
export function decodeHeader(buf: Uint8Array, off: number): DecodedHeader | null {
  let zero = true;
  for (let i = 0; i < BLOCK; i++) {
    if (buf[off + i] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) return null;
  const name = readString(buf, off + Off.name, 100);
  const prefix = readString(buf, off + Off.prefix, 155);
  const stored = readNumber(buf, off + Off.chksum, 8);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    mode: readNumber(buf, off + Off.mode, 8),
    uid: readNumber(buf, off + Off.uid, 8),
    gid: readNumber(buf, off + Off.gid, 8),
    size: readNumber(buf, off + Off.size, 12),
    mtime: readNumber(buf, off + Off.mtime, 12),
    type: String.fromCharCode(buf[off + Off.typeflag]!) as TypeFlag,
    uname: readString(buf, off + Off.uname, 32),
    gname: readString(buf, off + Off.gname, 32),
    checksumOk: stored === checksum(buf, off),
  };
}

/** Parse PAX extended header records into key/value pairs. */
export function decodePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    let sp = i;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = Number(dec.decode(data.subarray(i, sp)));
    if (!len || sp >= data.length) break;
    const rec = dec.decode(data.subarray(sp + 1, i + len - 1));
    const eq = rec.indexOf("=");
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}
