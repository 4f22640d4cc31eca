// Copying backups between two locations (folder or bucket, either way):
// every archive the destination lacks is streamed from the source into an
// object that appears only complete, checked, and only then the
// destination's index is replaced, conditionally, with the source's lines
// for them merged in: the index stays the commit point. Given a key, plain
// archives are encrypted in the stream (NAME.tgz.age); given --decrypt and
// its keys, the reverse; never both, and nothing is decrypted unasked.
import { checkArchiveKeys, encryptingSink, openArchiveBytes, type DecryptionKeys, type EncryptionKey } from "../crypto/index.ts";
import { ContextError, DsError, InterruptedError } from "../errors.ts";
import { INDEX_OBJECT, WriteDigest, type IncompleteWrite, type Location, type ObjectWriter } from "../location/location.ts";
import { parseIndex, type ArchiveDigest } from "../index/tindex.ts";
import { archiveBytes } from "../restore/archive-stream.ts";
import { CopyRefusedError, mergeIndex, planCopy, where, type CopyPlan, type IndexChange, type IndexText, type SourceArchive } from "./plan.ts";

/** An archive arrived other than it left, or other than the source records it: the source or the transfer is damaged. */
export class CopyCheckError extends DsError {}

export interface CopiedArchive {
  /** The object's name at the destination. */
  name: string;
  /** The source archive's name (NAME.tgz when it was encrypted on the way to NAME.tgz.age). */
  from: string;
  /** Encrypted by this copy. */
  encrypted: boolean;
  /** Decrypted by this copy (NAME.tgz.age to NAME.tgz). */
  decrypted: boolean;
  /** Size and sha256 of the object written (the ciphertext when encrypted, the plain archive when decrypted). */
  size: number;
  sha256: string;
  /** Bytes read from the source. */
  readSize: number;
  seconds: number;
}

export interface CopyOptions {
  source: Location;
  destination: Location;
  /** Only archives of this prefix (and the reference lines their incrementals need). */
  prefix?: string;
  /** Encrypt plain archives to this key on the way (NAME.tgz.age); archives already encrypted are copied as they are. Default: none, every archive byte for byte. */
  encryption?: EncryptionKey | null;
  /** Decrypt NAME.tgz.age archives with these keys on the way (NAME.tgz); plain ones are copied as they are. Not with `encryption`. Default: none. */
  decryption?: DecryptionKeys | null;
  /** Plan and check only: no lock, no object or index written, no incomplete write aborted. */
  dryRun?: boolean;
  /** SIGINT/SIGTERM: aborts the upload in progress; the destination's index is not touched. */
  signal: AbortSignal;
  /** Incomplete writes of a killed run found at the destination (aborted unless dry-run). */
  onIncompleteWrites?: (writes: IncompleteWrite[], aborted: boolean) => void;
  /** The plan, before anything is copied. */
  onPlan?: (plan: CopyPlan) => void;
  /** A present archive whose sha256 is not recorded at the destination is being read to check it. */
  onChecking?: (name: string) => void;
  onArchiveStart?: (a: SourceArchive, index: number, total: number) => void;
  /** Bytes of the current archive read from the source so far. */
  onProgress?: (bytes: number) => void;
  onArchiveCopied?: (c: CopiedArchive) => void;
  warn: (message: string) => void;
}

export interface CopyReport {
  plan: CopyPlan;
  copied: CopiedArchive[];
  /** Present archives read and hashed to check them (their sha256 was not recorded at the destination). */
  checked: ArchiveDigest[];
  /** Index lines added to or updated in the destination's index (or that would be, with dryRun). */
  changes: IndexChange[];
  incompleteWrites: IncompleteWrite[];
  indexWritten: boolean;
}

const indexText = (loc: Location, text: string | undefined): IndexText => ({ path: `${loc.display}/${INDEX_OBJECT}`, text });

async function sha256Of(loc: Location, name: string, signal: AbortSignal): Promise<ArchiveDigest> {
  const digest = new WriteDigest();
  for await (const chunk of await loc.read(name)) {
    if (signal.aborted) throw signal.reason;
    digest.update(chunk);
  }
  return digest.finish(name);
}

/**
 * Check the archives the destination already has whose sha256 it does not
 * record, by reading them (and the source's copy when the source records none).
 */
async function checkPresent(plan: CopyPlan, opts: CopyOptions): Promise<ArchiveDigest[]> {
  const checked: ArchiveDigest[] = [];
  for (const p of plan.present) {
    // Held in the other form (NAME.tgz.age for NAME.tgz): other bytes by design, nothing to compare without decrypting.
    if (p.destRecorded || p.otherForm) continue;
    opts.onChecking?.(p.archive.name);
    const there = await sha256Of(opts.destination, p.archive.name, opts.signal);
    const expected = p.recorded ?? (await sha256Of(opts.source, p.archive.name, opts.signal));
    if (there.sha256 !== expected.sha256 || there.size !== expected.size) {
      throw new CopyRefusedError(
        `${p.archive.name} is in both locations but differs: sha256 ${expected.sha256} in ${opts.source.display}` +
          `${p.recorded ? " (recorded in its index)" : ""}, ${there.sha256} in ${opts.destination.display}; it is never overwritten, nothing was copied`,
      );
    }
    checked.push(there);
  }
  return checked;
}

/**
 * Stream one archive across (through the encrypting sink when it is to be
 * encrypted). What was read is checked against the source's listing and
 * record before the object is committed; the destination's stat after.
 */
async function copyOne(a: SourceArchive, opts: CopyOptions, committed: string[]): Promise<CopiedArchive> {
  const { source, destination, signal } = opts;
  const name = a.destName;
  const started = performance.now();
  let writer: ObjectWriter | undefined;
  const failed = (problems: string[]) =>
    new CopyCheckError(`${a.archive.name} failed its check during the copy (${problems.join("; ")}); ${name} was removed again, the index of ${destination.display} is unchanged`);
  try {
    const out = await destination.write(name, { signal });
    writer = out;
    if (a.encrypt && !opts.encryption) throw new Error(`copyOne: ${a.archive.name} is to be encrypted, but no key was given`);
    const sealed = a.encrypt ? encryptingSink(opts.encryption!, { label: `${destination.display}/${name}`, write: (c) => out.write(c) }) : undefined;
    const sink = sealed ?? out;
    if (a.decrypt && !opts.decryption) throw new Error(`copyOne: ${a.archive.name} is to be decrypted, but no keys were given`);
    const read = new WriteDigest();
    // The digest is of the bytes as stored at the source (what its index records), taken before decryption.
    async function* stored() {
      for await (const chunk of await source.read(a.archive.name)) {
        if (signal.aborted) throw signal.reason;
        read.update(chunk);
        opts.onProgress?.(read.size);
        yield chunk;
      }
    }
    const bytes = a.decrypt ? openArchiveBytes(stored(), a.archive.name, opts.decryption!, { expectedSize: a.size }) : stored();
    for await (const chunk of bytes) await sink.write(chunk);
    await sealed?.end();
    if (signal.aborted) throw signal.reason;
    const got = read.finish(a.archive.name);
    const problems: string[] = [];
    if (got.size !== a.size) problems.push(`${got.size} bytes read, ${a.size} listed in the source`);
    if (a.recorded && (got.size !== a.recorded.size || got.sha256 !== a.recorded.sha256)) {
      problems.push(`read ${got.size} bytes with sha256 ${got.sha256}, the source's index records ${a.recorded.size} bytes with sha256 ${a.recorded.sha256}`);
    }
    if (problems.length > 0) throw failed(problems);
    const written = await out.commit();
    committed.push(name);
    const there = await destination.stat(name);
    if (there?.size !== written.size) throw failed([`${destination.display} reports ${there ? `${there.size} bytes` : "no object"} after ${written.size} were sent`]);
    return { name, from: a.archive.name, encrypted: a.encrypt, decrypted: a.decrypt, size: written.size, sha256: written.sha256, readSize: got.size, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await writer?.abort();
    throw err;
  }
}

/** Copy what the destination lacks; the caller has opened both locations. */
export async function copyBackups(opts: CopyOptions): Promise<CopyReport> {
  const { source, destination } = opts;
  const lock = opts.dryRun ? undefined : await destination.lock({ purpose: "copy", warn: opts.warn });
  try {
    // The token read now is what the index commit at the end is conditional on.
    const destIndex = await destination.readIndex();
    // A killed backup's archives that the destination's index already names are
    // completed (a folder renames them into place), never aborted as leftovers.
    if (!opts.dryRun && destIndex.content !== undefined) {
      await destination.completeCommittedWrites(parseIndex(destIndex.content, `${destination.display}/${INDEX_OBJECT}`), opts.warn);
    }
    const incompleteWrites = await destination.listIncompleteWrites();
    if (incompleteWrites.length > 0) {
      if (!opts.dryRun) await destination.abortIncompleteWrites(incompleteWrites);
      opts.onIncompleteWrites?.(incompleteWrites, !opts.dryRun);
    }
    // The source is not locked (a backup may be running there): listed before its index is read,
    // an archive that appears in between has no line yet and is simply left for the next copy.
    const sourceObjects = await source.list();
    const srcIndex = await source.readIndex();
    if (srcIndex.content === undefined) {
      throw new CopyRefusedError(`${source.display} has no ${INDEX_OBJECT}: there are no index lines to copy (dsbackup rebuild-index --backups ${source.display} writes one from the archives)`);
    }
    const destObjects = await destination.list();
    const src = indexText(source, srcIndex.content);
    const dst = indexText(destination, destIndex.content);
    const plan = planCopy({ source: src, sourceObjects, destination: dst, destObjects, prefix: opts.prefix, encrypt: Boolean(opts.encryption), decrypt: Boolean(opts.decryption) });
    opts.onPlan?.(plan);
    // Every header is opened before anything is copied: a wrong or missing key throws (exit 21) having written nothing.
    const sealed = plan.toCopy.filter((a) => a.decrypt).map((a) => a.archive);
    const keyProblem = opts.decryption
      ? await checkArchiveKeys(sealed, opts.decryption, (a) => archiveBytes({ name: a.name, location: source })).catch((err) => {
          throw err instanceof DsError ? new ContextError(`${err.message}; nothing was copied to ${destination.display}`, err) : err;
        })
      : undefined;
    if (keyProblem) throw new CopyCheckError(`${keyProblem.archive} cannot be decrypted: ${keyProblem.message}; nothing was copied`);
    const checked = await checkPresent(plan, opts);

    const digests = new Map<string, ArchiveDigest>();
    for (const p of plan.present) {
      const d = p.destRecorded ?? checked.find((c) => c.name === p.destName);
      if (d) digests.set(p.destName, d);
    }
    const destNames = new Set(destObjects.map((o) => o.name));
    if (opts.dryRun) {
      // What the index would gain: the archives' digests are not known without copying them.
      // (An archive encrypted or decrypted on the way gets a new sha256, known only then.)
      for (const a of plan.toCopy) if (a.recorded && !a.encrypt && !a.decrypt) digests.set(a.destName, a.recorded);
      for (const a of plan.toCopy) destNames.add(a.destName);
      const { changes } = mergeIndex(plan, src, dst, digests, destNames);
      return { plan, copied: [], checked, changes, incompleteWrites, indexWritten: false };
    }

    const copied: CopiedArchive[] = [];
    const committed: string[] = [];
    try {
      for (const [i, a] of plan.toCopy.entries()) {
        opts.onArchiveStart?.(a, i, plan.toCopy.length);
        const c = await copyOne(a, opts, committed);
        copied.push(c);
        digests.set(c.name, { name: c.name, size: c.size, sha256: c.sha256 });
        opts.onArchiveCopied?.(c);
      }
      const { text, changes } = mergeIndex(plan, src, dst, digests, destNames);
      if (changes.length === 0) return { plan, copied, checked, changes, incompleteWrites, indexWritten: false };
      if (opts.signal.aborted) throw opts.signal.reason;
      await destination.replaceIndex(text, destIndex.token);
      return { plan, copied, checked, changes, incompleteWrites, indexWritten: true };
    } catch (err) {
      // The index was not replaced: what this run put there is unindexed, take it away again.
      for (const name of committed) {
        try {
          await destination.delete(name);
        } catch (e) {
          opts.warn(`could not remove ${name} from ${where(dst)} after the failed copy: ${(e as Error).message}`);
        }
      }
      throw err instanceof DsError || !opts.signal.aborted ? err : new InterruptedError(`copy to ${destination.display} interrupted; its index is unchanged`);
    }
  } finally {
    await lock?.release();
  }
}
