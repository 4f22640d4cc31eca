// Cut a byte stream into fixed-size chunks, holding back the last one until
// more data or the end shows whether it is the final chunk (age's STREAM
// seals the final chunk differently). Whole chunks inside a piece are used
// in place; only a chunk that straddles pieces is copied.
export class Rechunker {
  private readonly buf: Uint8Array;
  private used = 0;

  constructor(readonly size: number) {
    this.buf = new Uint8Array(size);
  }

  /** How many chunks push(piece) will emit. */
  ready(pieceLength: number): number {
    return Math.floor((this.used + pieceLength - 1) / this.size);
  }

  /** Feed a piece; `emit` gets each chunk now known not to be the last, in order (valid only during the call). */
  push(piece: Uint8Array, emit: (chunk: Uint8Array) => void): void {
    let off = 0;
    while (off < piece.length) {
      if (this.used === this.size) {
        emit(this.buf);
        this.used = 0;
      }
      if (this.used === 0 && piece.length - off > this.size) {
        emit(piece.subarray(off, off + this.size));
        off += this.size;
        continue;
      }
      const n = Math.min(this.size - this.used, piece.length - off);
      this.buf.set(piece.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
    }
  }

  /** What is held back: the final chunk, once the input has ended (0 to `size` bytes). */
  rest(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }
}
