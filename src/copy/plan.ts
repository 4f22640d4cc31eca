// Copy planning, pure: from two indexes and two listings, which archives the
// destination lacks, which it already holds (and must match), and the
// destination's new index text. Nothing here reads or writes an object.
import { BackupRefusedError } from "../errors.ts";
import type { ObjectInfo } from "../location/location.ts";
import { DIGEST_MARK, INDEX_HEADER, indexComment, parseIndex, type ArchiveDigest, type IndexEntry } from "../index/tindex.ts";
import { parseArchiveName, type ArchiveName } from "../restore/plan.ts";
import { AGE_SUFFIX } from "../crypto/archive-codec.ts";

/** NAME.tgz for NAME.tgz.age and the reverse: the same archive in its other form. */
export const otherForm = (name: string) => (name.endsWith(AGE_SUFFIX) ? name.slice(0, -AGE_SUFFIX.length) : `${name}${AGE_SUFFIX}`);

/** The two locations disagree: copying would mix two histories or overwrite an archive. Exit 13. */
export class CopyRefusedError extends BackupRefusedError {}

/** One index as read from a location, with its raw lines (kept verbatim where nothing changes). */
export interface IndexText {
  /** How messages name the index: LOCATION/tindex. */
  path: string;
  /** undefined: the location has no index. */
  text: string | undefined;
}

export interface SourceArchive {
  archive: ArchiveName;
  size: number;
  /** The source's index line for the archive's sequence. */
  entry: IndexEntry;
  /** The size and sha256 the source's line records for it, if any. */
  recorded?: ArchiveDigest;
  /** Its object name at the destination: the source's name, or its other form when this copy encrypts or decrypts it. */
  destName: string;
  /** A plain archive encrypted on the way (the copy was given a key). */
  encrypt: boolean;
  /** A NAME.tgz.age decrypted on the way to NAME.tgz (copy --decrypt). */
  decrypt: boolean;
}

export interface PresentArchive extends SourceArchive {
  destSize: number;
  /** The size and sha256 the destination's line records for destName, if any. */
  destRecorded?: ArchiveDigest;
  /**
   * The destination holds the archive in its other form (NAME.tgz.age for
   * NAME.tgz, or the reverse): present, but its bytes cannot be compared; never replaced.
   */
  otherForm: boolean;
}

export interface CopyPlan {
  source: IndexEntry[];
  destination: IndexEntry[];
  /** Archives the destination lacks, in sequence order. */
  toCopy: SourceArchive[];
  /** Archives of the scope the destination already has (size checked; digests where both record one). */
  present: PresentArchive[];
  /** Source archives without a line in the source's index: not copied (their line is what copy gives). */
  unindexed: string[];
  /** Source archives not encrypted (decrypted) because the source holds them in the other form too (that one is copied as it is). */
  shadowed: string[];
  /** Streamed or pruned-reference lines that copied incrementals start from, added without archives. */
  referenceLines: IndexEntry[];
}

const rawLines = (text: string | undefined) => {
  const lines = (text ?? "").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
};
const rawLine = (index: IndexText, e: IndexEntry) => rawLines(index.text)[e.line - 1]!.trimEnd();
/** The location an index belongs to, for messages. */
export const where = (index: IndexText) => index.path.replace(/\/tindex$/, "");
const digestOf = (e: IndexEntry | undefined, name: string) => e?.digests?.find((d) => d.name === name);

/**
 * Plan a copy of `prefix`'s archives (every prefix if undefined); with
 * `encrypt`, plain archives go to the destination as NAME.tgz.age (those
 * already encrypted are copied as they are); with `decrypt`, the reverse:
 * NAME.tgz.age arrives as NAME.tgz, plain ones as they are. An
 * archive the destination holds in either form is present. Refuses
 * (CopyRefusedError) when the indexes disagree about a sequence number, or
 * an archive in the destination differs in size or recorded sha256 from the
 * source's: before anything is copied.
 */
export function planCopy(input: { source: IndexText; sourceObjects: ObjectInfo[]; destination: IndexText; destObjects: ObjectInfo[]; prefix?: string; encrypt?: boolean; decrypt?: boolean }): CopyPlan {
  const source = input.source.text === undefined ? [] : parseIndex(input.source.text, input.source.path);
  const destination = input.destination.text === undefined ? [] : parseIndex(input.destination.text, input.destination.path);
  const destBySeq = new Map(destination.map((e) => [e.seq, e]));
  for (const s of source) {
    const d = destBySeq.get(s.seq);
    if (d && (d.timestamp !== s.timestamp || d.tid !== s.tid)) {
      throw new CopyRefusedError(
        `the indexes disagree about sequence ${s.seq}: ${input.source.path} line ${s.line} is "${rawLine(input.source, s)}", ` +
          `${input.destination.path} line ${d.line} is "${rawLine(input.destination, d)}"; they hold different histories, nothing was copied`,
      );
    }
  }
  const sourceBySeq = new Map(source.map((e) => [e.seq, e]));
  const destObjects = new Map(input.destObjects.map((o) => [o.name, o]));
  const toCopy: SourceArchive[] = [];
  const present: PresentArchive[] = [];
  const unindexed: string[] = [];
  const shadowed: string[] = [];
  const sourceNames = new Set(input.sourceObjects.map((o) => o.name));
  const archives = input.sourceObjects
    .map((o) => ({ archive: parseArchiveName(o.name), size: o.size }))
    .filter((a): a is { archive: ArchiveName; size: number } => a.archive !== undefined && (input.prefix === undefined || a.archive.prefix === input.prefix))
    .sort((a, b) => a.archive.seq - b.archive.seq || (a.archive.reference ?? 0) - (b.archive.reference ?? 0) || (a.archive.name < b.archive.name ? -1 : 1));
  for (const { archive, size } of archives) {
    const entry = sourceBySeq.get(archive.seq);
    if (!entry) {
      unindexed.push(archive.name);
      continue;
    }
    const recorded = digestOf(entry, archive.name);
    const there = destObjects.get(archive.name);
    const other = there ? undefined : destObjects.get(otherForm(archive.name));
    if (other) {
      const destRecorded = digestOf(destBySeq.get(archive.seq), other.name);
      present.push({ archive, size, entry, recorded, destName: other.name, encrypt: false, decrypt: false, destSize: other.size, destRecorded, otherForm: true });
      continue;
    }
    if (!there) {
      const encrypt = Boolean(input.encrypt) && !archive.encrypted;
      const decrypt = Boolean(input.decrypt) && archive.encrypted;
      // The source's own other form is what the destination gets; this one is not converted to a second copy of it.
      if ((encrypt || decrypt) && sourceNames.has(otherForm(archive.name))) shadowed.push(archive.name);
      else toCopy.push({ archive, size, entry, recorded, destName: encrypt || decrypt ? otherForm(archive.name) : archive.name, encrypt, decrypt });
      continue;
    }
    const destRecorded = digestOf(destBySeq.get(archive.seq), archive.name);
    if (there.size !== size) {
      throw new CopyRefusedError(
        `${archive.name} is in both locations but differs: ${size} bytes in ${where(input.source)}, ${there.size} bytes in ${where(input.destination)}; ` +
          "it is never overwritten, nothing was copied",
      );
    }
    if (recorded && destRecorded && recorded.sha256 !== destRecorded.sha256) {
      throw new CopyRefusedError(
        `${archive.name} is in both locations but differs: sha256 ${recorded.sha256} recorded in ${input.source.path}, ` +
          `${destRecorded.sha256} in ${input.destination.path}; it is never overwritten, nothing was copied`,
      );
    }
    present.push({ archive, size, entry, recorded, destName: archive.name, encrypt: false, decrypt: false, destSize: there.size, destRecorded, otherForm: false });
  }
  // A copied incremental's reference line must be there for the destination's
  // chains to verify; streamed and pruned lines have no archive to bring it along.
  const referenceLines: IndexEntry[] = [];
  const copiedSeqs = new Set([...toCopy, ...present].map((a) => a.archive.seq));
  for (const a of [...toCopy, ...present]) {
    const ref = a.archive.reference === undefined ? undefined : sourceBySeq.get(a.archive.reference);
    if (!ref || destBySeq.has(ref.seq) || copiedSeqs.has(ref.seq) || referenceLines.includes(ref)) continue;
    if (ref.streamedAs !== undefined || ref.prunedReference) referenceLines.push(ref);
  }
  referenceLines.sort((a, b) => a.seq - b.seq);
  return { source, destination, toCopy, present, unindexed, shadowed, referenceLines };
}

/**
 * An index line with the digest items it should carry: items of archives
 * the destination will not hold are dropped, missing ones added. The raw
 * line is returned unchanged when nothing changes.
 */
export function lineWithDigests(raw: string, holds: (name: string) => boolean, add: ArchiveDigest[]): string {
  const hash = raw.indexOf("#");
  const content = (hash < 0 ? raw : raw.slice(0, hash)).trimEnd();
  const items = hash < 0 ? [] : raw.slice(hash + 1).split(";").map((t) => t.trim()).filter((t) => t !== "");
  const digestName = (item: string) => new RegExp(`^${DIGEST_MARK}\\s+(\\S+)\\s`).exec(item)?.[1];
  const kept = items.filter((item) => {
    const name = digestName(item);
    return name === undefined || holds(name);
  });
  const have = new Set(kept.map(digestName).filter((n) => n !== undefined));
  const added = add.filter((d) => !have.has(d.name));
  if (kept.length === items.length && added.length === 0) return raw.trimEnd();
  const comment = indexComment({ notes: [...kept, ...(added.length > 0 ? [indexComment({ digests: added })!] : [])] });
  return comment ? `${content}  # ${comment}` : content;
}

export interface IndexChange {
  seq: number;
  /** The line as written to the destination's index. */
  line: string;
  kind: "added" | "updated";
}

/**
 * The destination's new index text: its own lines kept in place (those of
 * sequences whose archives arrive gain their digest items), the source's
 * lines for the rest inserted in sequence order. `digests` holds what is
 * known of every archive the destination will hold, by its name there.
 */
export function mergeIndex(
  plan: CopyPlan,
  source: IndexText,
  destination: IndexText,
  digests: Map<string, ArchiveDigest>,
  destNames: Set<string>,
): { text: string; changes: IndexChange[] } {
  const holds = (name: string) => destNames.has(name) || digests.has(name);
  const bySeq = new Map<number, ArchiveDigest[]>();
  for (const a of [...plan.toCopy, ...plan.present]) {
    const d = digests.get(a.destName);
    if (d) bySeq.set(a.archive.seq, [...(bySeq.get(a.archive.seq) ?? []), d]);
  }
  const destBySeq = new Map(plan.destination.map((e) => [e.seq, e]));
  const changes: IndexChange[] = [];
  const lines = destination.text === undefined ? rawLines(INDEX_HEADER) : rawLines(destination.text);
  // Existing lines of the destination whose archives arrive (or are verified) gain their digests.
  for (const [seq, ds] of bySeq) {
    const d = destBySeq.get(seq);
    if (!d) continue;
    const before = lines[d.line - 1]!;
    const after = lineWithDigests(before, holds, ds);
    if (after !== before.trimEnd()) {
      lines[d.line - 1] = after;
      changes.push({ seq, line: after, kind: "updated" });
    }
  }
  const newSeqs = new Set<number>([...bySeq.keys(), ...[...plan.toCopy, ...plan.present].map((a) => a.archive.seq), ...plan.referenceLines.map((e) => e.seq)]);
  const additions = plan.source
    .filter((e) => newSeqs.has(e.seq) && !destBySeq.has(e.seq))
    .map((e) => ({ seq: e.seq, line: lineWithDigests(rawLine(source, e), holds, bySeq.get(e.seq) ?? []) }));
  // Insert each before the first destination entry with a greater sequence number (else at the end).
  const after = [...plan.destination].sort((a, b) => a.seq - b.seq);
  const inserts = new Map<number, string[]>(); // destination line index -> lines to put before it
  const tail: string[] = [];
  for (const add of additions) {
    const next = after.find((e) => e.seq > add.seq);
    if (next) inserts.set(next.line - 1, [...(inserts.get(next.line - 1) ?? []), add.line]);
    else tail.push(add.line);
    changes.push({ seq: add.seq, line: add.line, kind: "added" });
  }
  const out: string[] = [];
  lines.forEach((l, i) => out.push(...(inserts.get(i) ?? []), l));
  out.push(...tail);
  changes.sort((a, b) => a.seq - b.seq);
  return { text: `${out.join("\n")}\n`, changes };
}
