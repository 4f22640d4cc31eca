// A streaming, checking ustar reader: chunks of the decompressed tar stream
// in, entries out. It never touches the file system; it reports what is wrong
// with the stream (bad header checksum, truncation, missing end-of-archive
// blocks) instead of guessing. Understands PAX `path`/`size` records and GNU
// long names ('L'), the two ways writers store long paths.
import { BLOCK, decodeHeader, decodePax } from "../archive/ustar.ts";

export interface TarEntry {
  name: string;
  /** ustar type flag character ("0", "5", "2", ...). */
  type: string;
  size: number;
  /** Offset of the entry's header in the tar stream. */
  offset: number;
}

export interface TarReaderHandlers {
  /** Whether to collect this entry's content for onEntry. */
  wantData: (entry: TarEntry) => boolean;
  /** Called once the entry's content has been read (data only when wanted). */
  onEntry: (entry: TarEntry, data: Uint8Array | undefined) => void;
  /** A problem with the stream; entry is the name it concerns, if any. Reading stops after one. */
  onProblem: (message: string, entry?: string) => void;
}

type State = "header" | "data" | "end" | "failed";

const utf8 = new TextDecoder();

export class TarReader {
  private state: State = "header";
  private offset = 0;
  private readonly header = new Uint8Array(BLOCK);
  private headerFill = 0;
  private entry: TarEntry | undefined;
  private entryOffset = 0;
  /** Bytes of content still to come, then padding. */
  private remaining = 0;
  private padding = 0;
  private pieces: Uint8Array[] | undefined;
  private meta: "pax" | "longname" | undefined;
  private pending: { name?: string; size?: number } = {};
  private zeroBlocks = 0;
  entries = 0;

  constructor(private readonly handlers: TarReaderHandlers) {}

  get failed(): boolean {
    return this.state === "failed";
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.state !== "failed") {
      if (this.state === "end") {
        // After the end-of-archive blocks only zero padding may follow.
        for (; i < chunk.length; i++) {
          if (chunk[i] !== 0) return this.fail(`data after the end-of-archive blocks at byte ${this.offset + i}`);
        }
        break;
      }
      if (this.state === "header") {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + n), this.headerFill);
        this.headerFill += n;
        i += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.onHeader(this.offset + i - BLOCK);
        }
        continue;
      }
      // data: content, then padding to the next block
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.pieces?.push(chunk.slice(i, i + n));
        this.remaining -= n;
        i += n;
        if (this.remaining > 0) continue;
      }
      const n = Math.min(this.padding, chunk.length - i);
      this.padding -= n;
      i += n;
      if (this.padding === 0) this.finishEntry();
    }
    this.offset += chunk.length;
  }

  /** The stream is complete: report truncation or missing end blocks. */
  end(): void {
    if (this.state === "failed" || this.state === "end") return;
    if (this.state === "data" || this.headerFill > 0) {
      this.fail(`archive truncated inside ${this.entry ? `entry ${this.entry.name}` : "a header"}`, this.entry?.name);
    } else if (this.zeroBlocks === 0) {
      this.fail("archive ends without its end-of-archive blocks (truncated?)");
    }
  }

  private fail(message: string, entry?: string): void {
    this.state = "failed";
    this.handlers.onProblem(message, entry);
  }

  private onHeader(at: number): void {
    const h = decodeHeader(this.header, 0);
    if (h === null) {
      this.zeroBlocks++;
      if (this.zeroBlocks === 2) this.state = "end";
      return;
    }
    if (this.zeroBlocks > 0) return this.fail(`zero block followed by more entries at byte ${at}`);
    if (!h.checksumOk) {
      // A damaged header's name field may itself be garbage: show it only if it reads as a path.
      const named = /^[\x21-\x7e][\x20-\x7e]*$/.test(h.name) ? `, apparently for ${JSON.stringify(h.name)}` : "";
      return this.fail(`damaged tar header at byte ${at} of the uncompressed stream (checksum mismatch${named}); the archive is corrupt from there on`);
    }
    const type = String.fromCharCode(this.header[156]!);
    let size = h.size;
    if (type === "x" || type === "L") {
      this.meta = type === "x" ? "pax" : "longname";
    } else if (type === "g") {
      return this.fail(`global extended header at byte ${at} is not supported`);
    } else {
      this.meta = undefined;
    }
    let name = h.name;
    if (!this.meta) {
      if (this.pending.name !== undefined) name = this.pending.name;
      if (this.pending.size !== undefined) size = this.pending.size;
      this.pending = {};
    }
    if (this.meta && size > 1 << 20) return this.fail(`extended header of ${size} bytes at byte ${at} refused`);
    this.entry = { name, type: type === "\0" ? "0" : type, size, offset: at };
    this.entryOffset = at;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    // Only files (and extended headers) have content worth keeping; whatever
    // another type claims to carry is skipped all the same.
    const hasData = this.meta !== undefined || type === "0" || type === "\0" || type === "7";
    this.pieces = this.meta || (hasData && this.handlers.wantData(this.entry)) ? [] : undefined;
    this.state = "data";
    if (this.remaining === 0 && this.padding === 0) this.finishEntry();
  }

  private finishEntry(): void {
    const entry = this.entry!;
    const data = this.pieces ? concat(this.pieces) : undefined;
    this.pieces = undefined;
    this.state = "header";
    if (this.meta === "pax") {
      const records = decodePax(data!);
      if (records.path !== undefined) this.pending.name = records.path;
      if (records.size !== undefined) {
        if (!/^\d{1,15}$/.test(records.size)) return this.fail(`bad PAX size ${JSON.stringify(records.size)} at byte ${this.entryOffset}`);
        this.pending.size = Number(records.size);
      }
      if (records.linkpath !== undefined) this.pending.name ??= entry.name;
      return;
    }
    if (this.meta === "longname") {
      const text = utf8.decode(data!);
      this.pending.name = text.replace(/\0.*$/s, "");
      return;
    }
    this.entries++;
    this.handlers.onEntry(entry, data);
  }
}

function concat(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of pieces) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
