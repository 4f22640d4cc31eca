// Copying backups between two locations (folder or bucket, either way):
// every archive the destination lacks is streamed from the source into an
// object that appears only complete, checked, and only then the
// destination's index is replaced, conditionally, with the source's lines
// for them merged in: the index stays the commit point.
import { createHash } from "node:crypto";
import { DsError, InterruptedError } from "../errors.ts";
import { INDEX_OBJECT, type IncompleteWrite, type Location, type ObjectWriter } from "../location/location.ts";
import type { ArchiveDigest } from "../index/tindex.ts";
import { CopyRefusedError, mergeIndex, planCopy, where, type CopyPlan, type IndexChange, type IndexText, type SourceArchive } from "./plan.ts";

/** An archive arrived other than it left, or other than the source records it: the source or the transfer is damaged. */
export class CopyCheckError extends DsError {}

export interface CopiedArchive {
  name: string;
  size: number;
  sha256: string;
  seconds: number;
}

export interface CopyOptions {
  source: Location;
  destination: Location;
  /** Only archives of this prefix (and the reference lines their incrementals need). */
  prefix?: string;
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
  /** Bytes of the current archive sent so far. */
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
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of await loc.read(name)) {
    if (signal.aborted) throw signal.reason;
    hash.update(chunk);
    size += chunk.length;
  }
  return { name, size, sha256: hash.digest("hex") };
}

/**
 * Check the archives the destination already has whose sha256 it does not
 * record, by reading them (and the source's copy when the source records none).
 */
async function checkPresent(plan: CopyPlan, opts: CopyOptions): Promise<ArchiveDigest[]> {
  const checked: ArchiveDigest[] = [];
  for (const p of plan.present) {
    if (p.destRecorded) continue;
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

/** Stream one archive across; checked against the source's record and the destination's stat. */
async function copyOne(a: SourceArchive, opts: CopyOptions, committed: string[]): Promise<CopiedArchive> {
  const { source, destination, signal } = opts;
  const name = a.archive.name;
  const started = performance.now();
  let writer: ObjectWriter | undefined;
  try {
    writer = await destination.write(name, { signal });
    let sent = 0;
    for await (const chunk of await source.read(name)) {
      if (signal.aborted) throw signal.reason;
      await writer.write(chunk);
      sent += chunk.length;
      opts.onProgress?.(sent);
    }
    if (signal.aborted) throw signal.reason;
    const written = await writer.commit();
    committed.push(name);
    const problems: string[] = [];
    if (written.size !== a.size) problems.push(`${written.size} bytes read, ${a.size} listed in the source`);
    if (a.recorded && (written.size !== a.recorded.size || written.sha256 !== a.recorded.sha256)) {
      problems.push(`sent ${written.size} bytes with sha256 ${written.sha256}, the source's index records ${a.recorded.size} bytes with sha256 ${a.recorded.sha256}`);
    }
    const there = await destination.stat(name);
    if (there?.size !== written.size) problems.push(`${destination.display} reports ${there ? `${there.size} bytes` : "no object"} after ${written.size} were sent`);
    if (problems.length > 0) throw new CopyCheckError(`${name} failed its check after the copy (${problems.join("; ")}); it was removed again, the index of ${destination.display} is unchanged`);
    return { name, size: written.size, sha256: written.sha256, seconds: (performance.now() - started) / 1000 };
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
    const incompleteWrites = await destination.listIncompleteWrites();
    if (incompleteWrites.length > 0) {
      if (!opts.dryRun) await destination.abortIncompleteWrites(incompleteWrites);
      opts.onIncompleteWrites?.(incompleteWrites, !opts.dryRun);
    }
    // The token read now is what the index commit at the end is conditional on.
    const destIndex = await destination.readIndex();
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
    const plan = planCopy({ source: src, sourceObjects, destination: dst, destObjects, prefix: opts.prefix });
    opts.onPlan?.(plan);
    const checked = await checkPresent(plan, opts);

    const digests = new Map<string, ArchiveDigest>();
    for (const p of plan.present) {
      const d = p.destRecorded ?? checked.find((c) => c.name === p.archive.name);
      if (d) digests.set(p.archive.name, d);
    }
    const destNames = new Set(destObjects.map((o) => o.name));
    if (opts.dryRun) {
      // What the index would gain: the archives' digests are not known without copying them.
      for (const a of plan.toCopy) if (a.recorded) digests.set(a.archive.name, a.recorded);
      for (const a of plan.toCopy) destNames.add(a.archive.name);
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
