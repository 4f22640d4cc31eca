// A backups location in a local folder (or a mount): today's guarantees.
// Objects are written under .tmp-HOST-PID-NAME, fsynced and renamed (the
// folder fsynced after); the index is replaced the same way under the
// flock on .tindex.lock that the index lock already is.
//
// Streams: reads use Bun.file().slice().stream() and writes writeSync on
// the temp file's descriptor; @isaacs/fs-minipass was measured slower on
// both (README, Development).
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fileError, IndexConflictError, ObjectNotFoundError, StorageError } from "../errors.ts";
import { recoverStaleTemps } from "../backup/stale.ts";
import type { IndexEntry } from "../index/tindex.ts";
import { createTempFile, deadOwnTemps, fsyncDirectory, writeAll, writeFileAtomic } from "../fsutil/atomic.ts";
import { INDEX_NAME, lockIndex } from "../index/index-file.ts";
import {
  checkObjectName,
  WriteDigest,
  type IncompleteWrite,
  type IndexSnapshot,
  type Location,
  type LocationLock,
  type LockOptions,
  type ObjectInfo,
  type ObjectWriter,
  type ReadRange,
  type WrittenObject,
} from "./location.ts";

/** The folder's index token: the sha256 of its content (no other writer changes it under the flock). */
const contentToken = (text: string) => createHash("sha256").update(text).digest("hex");

export class FolderLocation implements Location {
  readonly display: string;

  constructor(readonly dir: string) {
    this.display = dir;
  }

  private path(name: string): string {
    checkObjectName(this.display, name);
    return join(this.dir, name);
  }

  async list(): Promise<ObjectInfo[]> {
    let entries;
    try {
      entries = readdirSync(this.dir, { withFileTypes: true });
    } catch (err) {
      // A missing location is "no backups here" (exit 10), as a missing repository is to restic.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new StorageError(`${this.dir}: no such backups folder`);
      if (code === "ENOTDIR") throw new StorageError(`${this.dir} is not a directory`);
      throw fileError("read directory", this.dir, err);
    }
    const out: ObjectInfo[] = [];
    for (const e of entries) {
      if (!e.isFile()) continue;
      try {
        out.push({ name: e.name, size: statSync(join(this.dir, e.name)).size });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw fileError("stat", join(this.dir, e.name), err);
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    const path = this.path(name);
    try {
      const st = statSync(path);
      return st.isFile() ? { name, size: st.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw fileError("stat", path, err);
    }
  }

  async read(name: string, range?: ReadRange): Promise<AsyncIterable<Uint8Array>> {
    const path = this.path(name);
    if (!(await this.stat(name))) throw new ObjectNotFoundError(this.display, name);
    const file = Bun.file(path);
    const stream = (range ? file.slice(range.start, range.end) : file).stream();
    return (async function* () {
      try {
        yield* stream;
      } catch (err) {
        throw fileError("read", path, err);
      }
    })();
  }

  async write(name: string, opts: { signal?: AbortSignal } = {}): Promise<ObjectWriter> {
    const finalPath = this.path(name);
    const temp = createTempFile(finalPath, 0o640);
    const digest = new WriteDigest();
    let state: "open" | "sealed" | "committed" | "aborted" = "open";
    let written: WrittenObject | undefined;
    const abort = async () => {
      if (state === "committed") return;
      state = "aborted";
      temp.discard();
    };
    opts.signal?.addEventListener("abort", () => void abort(), { once: true });
    const refuse = (what: string) => fileError(what, finalPath, new Error(`the write was already ${state}`));
    const seal = async () => {
      if (state === "sealed") return written!;
      if (state !== "open") throw refuse("seal");
      try {
        temp.seal();
      } catch (err) {
        await abort();
        throw err;
      }
      state = "sealed";
      return (written = digest.finish(name));
    };
    return {
      label: finalPath,
      async write(chunk) {
        if (state !== "open") throw refuse("write");
        writeAll(temp.fd, chunk, finalPath);
        digest.update(chunk);
        // Synchronous writes never reach the event loop: let it run after
        // each piece, so a SIGINT/SIGTERM handler can abort the run (measured:
        // without this a small archive is written whole before the signal is seen).
        await new Promise((resolve) => setImmediate(resolve));
      },
      seal,
      async commit() {
        const done = await seal();
        try {
          temp.commit();
        } catch (err) {
          await abort();
          throw err;
        }
        state = "committed";
        return done;
      },
      abort,
    };
  }

  async delete(name: string): Promise<void> {
    const path = this.path(name);
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw fileError("remove", path, err);
    }
    fsyncDirectory(this.dir);
  }

  private readIndexText(): string | undefined {
    const path = join(this.dir, INDEX_NAME);
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw fileError("read", path, err);
    }
  }

  async readIndex(): Promise<IndexSnapshot> {
    const content = this.readIndexText();
    return { content, token: content === undefined ? null : contentToken(content) };
  }

  async replaceIndex(content: string, token: string | null): Promise<string> {
    // Under the flock no other dsbackup rewrites it; a mismatch means a writer that took no lock.
    const now = this.readIndexText();
    if ((now === undefined ? null : contentToken(now)) !== token) {
      throw new IndexConflictError(`${join(this.dir, INDEX_NAME)} was changed by another program since this run read it; this run's index line was not written`);
    }
    writeFileAtomic(join(this.dir, INDEX_NAME), content, 0o640);
    return contentToken(content);
  }

  async lock(opts: LockOptions): Promise<LocationLock> {
    if (!statSync(this.dir, { throwIfNoEntry: false })?.isDirectory()) throw new StorageError(`${this.dir}: no such backups folder`);
    const held = lockIndex(this.dir, opts.purpose);
    return {
      info: { host: hostname(), pid: process.pid, startedAt: Date.now() },
      refresh: async () => {},
      release: async () => held.release(),
    };
  }

  async listIncompleteWrites(): Promise<IncompleteWrite[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      throw fileError("read directory", this.dir, err);
    }
    return deadOwnTemps(names).map((t) => ({ name: t.finalName, id: t.name }));
  }

  async completeCommittedWrites(index: IndexEntry[], report: (message: string) => void): Promise<void> {
    recoverStaleTemps(this.dir, index, report);
  }

  where(name: string): string {
    return join(this.dir, name);
  }

  async abortIncompleteWrites(writes: IncompleteWrite[]): Promise<number> {
    for (const w of writes) await this.delete(w.id);
    return writes.length;
  }
}
