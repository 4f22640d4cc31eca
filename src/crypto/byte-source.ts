// One reader over a web ReadableStream or any async iterable of bytes, with
// room to push back what was read ahead (the payload after the age header).
export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private ahead: Uint8Array | null = null;
  /** Bytes handed out so far (pushed-back bytes count once). */
  consumed = 0;

  constructor(source: ByteSource) {
    const s = source as Partial<AsyncIterable<Uint8Array> & Iterable<Uint8Array>>;
    const asyncIterator = s[Symbol.asyncIterator];
    this.it = asyncIterator ? asyncIterator.call(s) : (async function* () { yield* s as Iterable<Uint8Array>; })();
  }

  /** The next piece (never empty), or null at the end. */
  async read(): Promise<Uint8Array | null> {
    if (this.ahead) {
      const a = this.ahead;
      this.ahead = null;
      return a;
    }
    for (;;) {
      const r = await this.it.next();
      if (r.done) return null;
      if (r.value.length === 0) continue;
      this.consumed += r.value.length;
      return r.value;
    }
  }

  /** Give back the unread tail of the last piece; the next read returns it first. */
  unread(bytes: Uint8Array): void {
    if (bytes.length > 0) this.ahead = bytes;
  }

  /** Stop the source (a cancelled output stream cancels its input). */
  async cancel(reason?: unknown): Promise<void> {
    await this.it.return?.(reason);
  }
}

/** `a` followed by `b`, as one new array (either may be empty). */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
