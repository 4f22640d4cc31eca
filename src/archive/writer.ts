// Streaming .tar.gz writer for DirectoryStorage backups.
//
// The tar stream (ustar, see ustar.ts) is built directly into 1 MiB blocks:
// small files are read with open/fstat/read/close straight into the block
// after their header, so one block holds hundreds of files. Each full block is
// compressed into an independent gzip member, by worker threads (jobs > 1) or
// inline (jobs: 1), and the members are written to outFd in order. A file of
// concatenated gzip members is a valid gzip file (RFC 1952): gzip -t, GNU tar,
// bsdtar and Python's tarfile read it as one stream.
//
// Back-pressure: at most `maxInFlight` blocks exist between "filled" and
// "written"; the reader waits when that many are queued, so memory stays at a
// few MiB whatever the storage size, and a slow outFd (a pipe) slows the reader.
//
// Compiled executable: gzip-worker.ts is a separate entry point of
// `bun build --compile` (bun build --compile src/cli.ts src/archive/gzip-worker.ts).

import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readSync, write } from "node:fs";
import { availableParallelism } from "node:os";
import { DsError, InterruptedError, fileError } from "../errors.ts";
import { count } from "../plural.ts";
import { gzipBlock, libdeflateLevel, type CompressReply, type CompressRequest } from "./gzip.ts";
import { BLOCK, encodeHeaderFast, encodeHeaderGeneral, headerSize, type HeaderFields } from "./ustar.ts";

export type ArchiveEntry =
  | { kind: "directory"; name: string; sourcePath: string }
  | { kind: "file"; name: string; sourcePath: string };

export interface ArchiveOptions {
  /** gzip level 1-9, default 6. */
  level?: number;
  /** Compressor workers, default = cores. 1 compresses inline, without a worker. */
  jobs?: number;
  onProgress?: (p: { files: number; bytes: number }) => void;
  /** Sees each piece of compressed output once it is written (to hash what went to a descriptor). */
  onOutput?: (chunk: Uint8Array) => void;
  signal?: AbortSignal;
}

export interface ArchiveResult {
  /** Entries written (directories and files). */
  entries: number;
  files: number;
  /** Bytes of file content read. */
  inputBytes: number;
  /** Bytes of the uncompressed tar stream (headers, content, padding, end records). */
  tarBytes: number;
  /** Bytes of gzip written to outFd. */
  outputBytes: number;
}

/**
 * Where the compressed archive goes when it is not a file descriptor: an
 * upload, an encryption stream. `write` resolves when the sink can take more
 * (back-pressure); the writer never has more than one write outstanding.
 */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  /** For error messages: "s3://bucket/x.tgz". */
  readonly label: string;
}

/** Size of one block of tar stream compressed as one gzip member. */
export const BLOCK_SIZE = 1 << 20;
/** GNU tar's default record size: the archive is padded to a multiple of it. */
export const RECORD_SIZE = 10240;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Write `entries` as a gzip-compressed ustar archive to `out` (a file
 * descriptor or a ByteSink). Does not fsync or close a descriptor, nor end a sink. Rejects with a DsError naming the path for a missing,
 * unreadable, non-regular or changing file, with InterruptedError when
 * `signal` aborts, and with a FileError("write") when outFd fails.
 */
export async function writeArchive(
  entries: Iterable<ArchiveEntry>,
  outFd: number | ByteSink,
  opts: ArchiveOptions = {},
): Promise<ArchiveResult> {
  const level = opts.level ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new DsError(`gzip level must be 1-9, not ${level}`);
  const jobs = Math.max(1, Math.floor(opts.jobs ?? availableParallelism()));
  const signal = opts.signal;
  checkAbort(signal);

  const out = new Output(outFd, libdeflateLevel(level), jobs, signal, opts.onOutput);
  const w = new TarBuilder(out);
  let entryCount = 0;
  /** Returns a promise only for a file bigger than a block. */
  const add = (e: ArchiveEntry): void | Promise<void> => {
    if (signal?.aborted) checkAbort(signal);
    entryCount++;
    if (e.kind === "directory") w.addDirectory(e.name, e.sourcePath);
    else if (e.kind === "file") return w.addFile(e.name, e.sourcePath);
    else throw new DsError(`archive: unknown entry kind ${(e as { kind: string }).kind}`);
  };
  const progress = () => opts.onProgress?.({ files: w.files, bytes: w.inputBytes });
  try {
    // The source is synchronous (a directory walk): no await per entry, only per block.
    for (const e of entries) {
      const big = add(e);
      if (big) await big;
      if (w.pendingFlush) {
        await w.flush();
        progress();
      }
    }
    w.end();
    await w.flush();
    await out.finish();
  } catch (err) {
    const first = out.error ?? err;
    await out.abandon();
    throw first;
  }
  progress();
  return { entries: entryCount, files: w.files, inputBytes: w.inputBytes, tarBytes: w.tarBytes, outputBytes: out.outputBytes };
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError("Interrupted while writing the archive", { cause: signal.reason });
}

/** Builds the tar stream into blocks and hands full blocks to Output. */
class TarBuilder {
  files = 0;
  inputBytes = 0;
  /** Total tar stream bytes so far. */
  tarBytes = 0;
  /** Full blocks waiting to be handed to Output (at most a few). */
  private full: { buf: Uint8Array; len: number }[] = [];
  private buf: Uint8Array;
  private pos = 0;

  constructor(private out: Output) {
    this.buf = out.takeBuffer();
  }

  get pendingFlush(): boolean {
    return this.full.length > 0;
  }

  /** Hand full blocks (and with `all`, the partial one) to Output. */
  async flush(): Promise<void> {
    while (this.full.length) {
      const b = this.full.shift()!;
      await this.out.submit(b.buf, b.len);
    }
    if (this.ended && this.pos > 0) {
      await this.out.submit(this.buf, this.pos, true);
      this.pos = 0;
    }
  }

  private ended = false;

  private nextBlock(): void {
    this.full.push({ buf: this.buf, len: this.pos });
    this.buf = this.out.takeBuffer();
    this.pos = 0;
  }

  /** Make room for `n` contiguous bytes (n <= BLOCK_SIZE). */
  private room(n: number): void {
    if (BLOCK_SIZE - this.pos < n) this.nextBlock();
  }

  private zeros(n: number): void {
    while (n > 0) {
      if (this.pos === BLOCK_SIZE) this.nextBlock();
      const k = Math.min(n, BLOCK_SIZE - this.pos);
      this.buf.fill(0, this.pos, this.pos + k);
      this.pos += k;
      this.tarBytes += k;
      n -= k;
    }
  }

  private header(f: HeaderFields): void {
    // Nearly every entry: one block, the name scanned once.
    this.room(BLOCK);
    if (encodeHeaderFast(f, this.buf, this.pos)) {
      this.pos += BLOCK;
      this.tarBytes += BLOCK;
      return;
    }
    const n = headerSize(f);
    if (n > BLOCK_SIZE) throw new DsError(`archive: name too long: ${f.name.slice(0, 200)}...`);
    this.room(n);
    this.pos += encodeHeaderGeneral(f, this.buf, this.pos);
    this.tarBytes += n;
  }

  addDirectory(name: string, sourcePath: string): void {
    const clean = cleanName(name);
    let st;
    try {
      st = lstatSync(sourcePath);
    } catch (err) {
      throw fileError("read", sourcePath, err);
    }
    if (st.isSymbolicLink()) throw new DsError(`Cannot read ${sourcePath}: is a symbolic link, not a directory`);
    if (!st.isDirectory()) throw new DsError(`Cannot read ${sourcePath}: not a directory`);
    this.header({
      name: clean + "/",
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: 0,
      mtime: Math.max(0, Math.floor(st.mtimeMs / 1000)),
      type: "5",
    });
  }

  /**
   * Add a regular file. Files of up to one block are read synchronously; a
   * bigger one returns a promise and hands each block on as it fills, so
   * memory stays bounded whatever the file size.
   */
  addFile(name: string, sourcePath: string): void | Promise<void> {
    const clean = cleanName(name);
    let fd: number;
    try {
      fd = openSync(sourcePath, OPEN_FLAGS);
    } catch (err) {
      if ((err as NodeJS.ErrnoException)?.code === "ELOOP") {
        throw new DsError(`Cannot read ${sourcePath}: is a symbolic link, not a regular file`, { cause: err });
      }
      throw fileError("read", sourcePath, err);
    }
    let closeHere = true;
    try {
      let st;
      try {
        st = fstatSync(fd);
      } catch (err) {
        throw fileError("read", sourcePath, err);
      }
      if (!st.isFile()) throw new DsError(`Cannot read ${sourcePath}: not a regular file`);
      const size = st.size;
      this.header({
        name: clean,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size,
        mtime: Math.max(0, Math.floor(st.mtimeMs / 1000)),
        type: "0",
      });
      this.left = size;
      if (size <= BLOCK_SIZE) {
        while (!this.readStep(fd, sourcePath, size));
        this.fileDone(size);
        return;
      }
      closeHere = false;
      return this.readBig(fd, sourcePath, size).finally(() => closeQuietly(fd));
    } finally {
      if (closeHere) closeQuietly(fd);
    }
  }

  private async readBig(fd: number, path: string, size: number): Promise<void> {
    while (!this.readStep(fd, path, size)) if (this.full.length) await this.flush();
    this.fileDone(size);
  }

  private fileDone(size: number): void {
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) this.zeros(pad);
    this.files++;
    this.inputBytes += size;
  }

  /** Bytes of the current file still to read. */
  private left = 0;

  /**
   * One read of the current file into the stream; true when all `size` bytes
   * are in. The last read asks for one byte more (blocks have one byte of
   * slack) to see whether the file grew; a read of 0 bytes before `size`
   * means it shrank.
   */
  private readStep(fd: number, path: string, size: number): boolean {
    if (this.pos === BLOCK_SIZE) this.nextBlock();
    const room = BLOCK_SIZE - this.pos;
    const left = this.left;
    const want = left <= room ? left + 1 : room;
    let n: number;
    try {
      n = readSync(fd, this.buf, this.pos, want, null);
    } catch (err) {
      throw fileError("read", path, err);
    }
    if (n > left) throw new DsError(`Cannot read ${path}: file grew while being read (expected ${count(size, "byte")})`);
    if (n === 0 && left > 0) {
      throw new DsError(`Cannot read ${path}: file shrank while being read (expected ${count(size, "byte")}, got ${size - left})`);
    }
    this.pos += n;
    this.tarBytes += n;
    this.left = left - n;
    return this.left === 0; // the extra byte asked for was not there: the size is right
  }

  /** Two zero blocks, then zeros up to a multiple of the 10240-byte record. */
  end(): void {
    this.zeros(2 * BLOCK);
    const rem = this.tarBytes % RECORD_SIZE;
    if (rem) this.zeros(RECORD_SIZE - rem);
    this.ended = true;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // a failed close of a read-only descriptor loses nothing
  }
}

/** Never write an absolute or `..` name, whoever the caller is; cheap on the usual clean name. */
function cleanName(name: string): string {
  const n = name.endsWith("/") ? name.replace(/\/+$/, "") : name;
  if (!n || n.startsWith("/") || (n.includes("..") && n.split("/").includes(".."))) {
    throw new DsError(`archive: bad entry name ${JSON.stringify(name)}`);
  }
  return n;
}

interface Pending {
  id: number;
  promise: Promise<Uint8Array>;
}

/**
 * Compresses blocks (inline or on workers) and writes the members to outFd in
 * order, with at most maxInFlight blocks between submit and written.
 */
class Output {
  outputBytes = 0;
  error: unknown = null;
  private queue: Pending[] = [];
  private readonly maxInFlight: number;
  private freeBuffers: ArrayBuffer[] = [];
  private workers: WorkerSlot[] = [];
  private nextId = 0;
  private waiters: (() => void)[] = [];
  private writing: Promise<void> | null = null;
  /**
   * For a pipe or socket: Bun's own writer, which waits for the descriptor to
   * become writable when it is non-blocking and full (Bun itself, or a
   * process sharing it, may have set O_NONBLOCK on a stdout pipe, and a
   * plain write then fails with EAGAIN). Files and devices use fs.write.
   */
  private sink: import("bun").FileSink | null = null;
  private byteSink: ByteSink | null = null;
  private fd = -1;
  private onAbort = () => this.fail(new InterruptedError("Interrupted while writing the archive", { cause: this.signal?.reason }));

  /** Where the worker's code is; undefined: compress inline. */
  private readonly workerUrl: string | undefined;

  constructor(
    out: number | ByteSink,
    private level: number,
    private jobs: number,
    private signal: AbortSignal | undefined,
    private onOutput?: (chunk: Uint8Array) => void,
  ) {
    this.workerUrl = jobs > 1 ? gzipWorkerUrl() : undefined;
    if (this.workerUrl === undefined) this.jobs = 1;
    this.maxInFlight = this.jobs === 1 ? 2 : this.jobs * 2;
    signal?.addEventListener("abort", this.onAbort, { once: true });
    if (typeof out !== "number") {
      this.byteSink = out;
      return;
    }
    const fd = (this.fd = out);
    let st;
    try {
      st = fstatSync(fd);
    } catch (err) {
      throw fileError("write", describeOutput(fd), err);
    }
    if (st.isFIFO() || st.isSocket()) this.sink = Bun.file(fd).writer({ highWaterMark: BLOCK_SIZE });
  }

  /** A block buffer with one byte of slack (see readStep). */
  takeBuffer(): Uint8Array {
    return new Uint8Array(this.freeBuffers.pop() ?? new ArrayBuffer(BLOCK_SIZE + 1));
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private throwIfFailed(): void {
    if (this.error) throw this.error;
  }

  /** Queue a block; resolves once the queue has room again. */
  async submit(buf: Uint8Array, len: number, last = false): Promise<void> {
    this.throwIfFailed();
    if (len === 0) {
      this.freeBuffers.push(buf.buffer as ArrayBuffer);
      return;
    }
    const id = this.nextId++;
    let promise: Promise<Uint8Array>;
    if (this.jobs === 1 || (last && this.workers.length === 0)) {
      // Inline: jobs 1, or a single block archive (no worker start-up).
      try {
        promise = Promise.resolve(gzipBlock(buf.subarray(0, len), this.level));
      } catch (err) {
        promise = Promise.reject(new DsError(`gzip failed: ${String(err)}`, { cause: err }));
      }
      this.freeBuffers.push(buf.buffer as ArrayBuffer);
    } else {
      promise = this.compressOnWorker(id, buf, len);
    }
    promise.catch(() => {}); // observed by the write loop; avoid unhandled rejections
    this.queue.push({ id, promise });
    this.kickWriter();
    while (this.queue.length >= this.maxInFlight && !this.error) await this.wait();
    this.throwIfFailed();
  }

  /** Wait for everything queued to be written; stop the workers. */
  async finish(): Promise<void> {
    while ((this.queue.length || this.writing) && !this.error) await this.wait();
    this.throwIfFailed();
    this.destroy();
  }

  private kickWriter(): void {
    if (this.writing) return;
    this.writing = this.writeLoop()
      .catch((err) => this.fail(err))
      .finally(() => {
        this.writing = null;
        this.notify();
      });
  }

  private async writeLoop(): Promise<void> {
    while (this.queue.length && !this.error && !this.abandoned) {
      const data = await this.queue[0]!.promise;
      await this.write(data);
      this.onOutput?.(data);
      this.outputBytes += data.length;
      this.queue.shift();
      this.notify();
    }
  }

  private async write(data: Uint8Array): Promise<void> {
    if (this.byteSink) return this.byteSink.write(data);
    if (!this.sink) return writeAll(this.fd, data);
    try {
      this.sink.write(data);
      await this.sink.flush();
    } catch (err) {
      throw fileError("write", describeOutput(this.fd), err);
    }
  }

  fail(err: unknown): void {
    if (!this.error) this.error = err;
    this.stopWorkers();
    this.notify();
  }

  private abandoned = false;

  /**
   * After a failure: stop the workers, drop queued blocks and wait for a write
   * in progress, so that nothing writes to outFd once the promise settles (the
   * caller may close it). A write stuck on a full pipe is given up on after 2 s.
   */
  async abandon(): Promise<void> {
    this.abandoned = true;
    this.destroy();
    this.queue = [];
    if (this.writing) await Promise.race([this.writing, new Promise((r) => setTimeout(r, 2000).unref?.())]);
  }

  /** Stop workers and drop everything; safe to call more than once. */
  destroy(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
    // A write still waiting on a pipe nobody reads must not keep the process alive.
    this.sink?.unref();
    this.stopWorkers();
    this.freeBuffers = [];
  }

  private stopWorkers(): void {
    const ws = this.workers;
    this.workers = [];
    for (const w of ws) {
      w.stopped = true;
      w.worker.terminate();
      for (const p of w.pending.values()) p.reject(this.error ?? new DsError("archive: compression stopped"));
      w.pending.clear();
    }
  }

  private startWorkers(): void {
    const url = this.workerUrl!;
    if (process.env.DSBACKUP_DEBUG_WORKER) process.stderr.write(`dsbackup: compression worker ${url}\n`);
    for (let i = 0; i < this.jobs; i++) {
      const worker = new Worker(url);
      const slot: WorkerSlot = { worker, pending: new Map(), stopped: false };
      worker.onmessage = (e: MessageEvent<CompressReply>) => {
        const r = e.data;
        const p = slot.pending.get(r.id);
        if (!p) return;
        slot.pending.delete(r.id);
        if (!this.error) this.freeBuffers.push(r.buf);
        if ("error" in r) p.reject(new DsError(`gzip failed: ${r.error}`));
        else p.resolve(new Uint8Array(r.out, r.outOffset, r.outLength));
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault?.();
        this.fail(new DsError(`archive: compression worker failed: ${e.message ?? "unknown error"}`));
      };
      worker.addEventListener("close", () => {
        if (!slot.stopped) this.fail(new DsError("archive: compression worker exited unexpectedly"));
      });
      this.workers.push(slot);
    }
  }

  private compressOnWorker(id: number, buf: Uint8Array, len: number): Promise<Uint8Array> {
    if (this.workers.length === 0) {
      if (this.error) return Promise.reject(this.error);
      this.startWorkers();
    }
    // The worker with the fewest blocks in hand.
    let slot = this.workers[0]!;
    for (const w of this.workers) if (w.pending.size < slot.pending.size) slot = w;
    return new Promise<Uint8Array>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const msg: CompressRequest = { id, buf: buf.buffer as ArrayBuffer, len, level: this.level };
      try {
        slot.worker.postMessage(msg, [msg.buf]);
      } catch (err) {
        slot.pending.delete(id);
        reject(new DsError(`archive: cannot reach compression worker: ${String(err)}`, { cause: err }));
      }
    });
  }
}

/**
 * Where the compression worker's code is (gzip-worker.ts, the one source):
 * - under `bun run` / `bun test`: gzip-worker.ts next to this module;
 * - in the executable built with `bun build --compile src/cli.ts
 *   src/archive/gzip-worker.ts` (scripts/build.ts, EXTRA_ENTRY_POINTS): the
 *   embedded entry point, which Bun stores under /$bunfs/root/ relative to
 *   the entry points' common folder (src/, so archive/gzip-worker.js, loaded
 *   by its .ts name), while import.meta.url of every bundled module is the
 *   executable's own /$bunfs/root/NAME;
 * - undefined in an executable built without that entry point: the blocks
 *   are then compressed inline (same bytes, one core; DSBACKUP_DEBUG_WORKER
 *   says so), rather than from a second copy of the worker's code.
 */
export function gzipWorkerUrl(): string | undefined {
  const here = new URL("./gzip-worker.ts", import.meta.url);
  if (!here.href.includes("/$bunfs/")) return here.href;
  for (const sub of ["archive/", "src/archive/", ""]) {
    const embedded = `${import.meta.dir}/${sub}gzip-worker`;
    if (existsSync(`${embedded}.js`) || existsSync(`${embedded}.ts`)) return `${embedded}.ts`;
  }
  if (process.env.DSBACKUP_DEBUG_WORKER) process.stderr.write("dsbackup: no embedded compression worker; compressing inline\n");
  return undefined;
}

interface WorkerSlot {
  worker: Worker;
  pending: Map<number, { resolve: (b: Uint8Array) => void; reject: (e: unknown) => void }>;
  stopped: boolean;
}

function describeOutput(fd: number): string {
  return fd === 1 ? "standard output" : `the archive (fd ${fd})`;
}

/** Write all of `data` to a file or device (pipes and sockets go through Output's sink). */
async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) {
    let n: number;
    try {
      n = await new Promise<number>((resolve, reject) =>
        write(fd, data, off, data.length - off, null, (err, written) => (err ? reject(err) : resolve(written))),
      );
    } catch (err) {
      throw fileError("write", describeOutput(fd), err);
    }
    off += n;
  }
}

/**
 * A ByteSink over a descriptor, for a layer between the writer and the file
 * (the encryption): files and devices through fs.write, pipes and sockets
 * through Bun's writer as Output does. Errors are FileError("write") naming
 * the descriptor as the writer's own are.
 */
export function descriptorSink(fd: number): ByteSink {
  let st;
  try {
    st = fstatSync(fd);
  } catch (err) {
    throw fileError("write", describeOutput(fd), err);
  }
  const pipe = st.isFIFO() || st.isSocket() ? Bun.file(fd).writer({ highWaterMark: BLOCK_SIZE }) : null;
  return {
    label: describeOutput(fd),
    async write(data) {
      if (!pipe) return writeAll(fd, data);
      try {
        pipe.write(data);
        await pipe.flush();
      } catch (err) {
        throw fileError("write", describeOutput(fd), err);
      }
    },
  };
}
