// backups/tindex: one line per backup run, `%-5d %-12d %s` (sequence number,
// snapshot timestamp in epoch seconds, newest tid). Parsing is pure and strict:
// a damaged index is refused with its line number, never renumbered silently.
import { BackupRefusedError } from "../errors.ts";
import { hex16 } from "../storage/names.ts";

export interface IndexEntry {
  seq: number;
  timestamp: number;
  tid: string;
  line: number;
  /** Name of the archive if it was written to standard output (`--output -`), not to this folder. */
  streamedAs?: string;
  /** prune deleted this backup's archives but kept the line: a kept incremental starts from it. */
  prunedReference?: boolean;
  /** Size and sha256 of each archive of the run, as written (`# sha256 NAME SIZE HEX`). */
  digests?: ArchiveDigest[];
}

/** What was written for one archive: checked after a copy, by verify, and by restore before TARGET appears. */
export interface ArchiveDigest {
  name: string;
  size: number;
  /** 64 lower-case hex digits. */
  sha256: string;
}

/** Comment item recording an archive's size and sha256: `sha256 NAME SIZE HEX`. */
export const DIGEST_MARK = "sha256";

/** Comment prune puts on a line it keeps only as the reference of a kept incremental. */
export const PRUNED_MARK = "pruned";

/** Comment after an index line whose archive went to standard output: `# stdout NAME`. */
export const STREAMED_MARK = "stdout";

export const INDEX_HEADER =
  "# DirectoryStorage backup index, written by dsbackup.\n" +
  "# One line per backup run: sequence number, snapshot time (seconds since\n" +
  "# the epoch), newest transaction id in the backup (16 hex digits).\n" +
  "# Archives: PREFIX-SEQ.tgz (full), PREFIX-REF-to-SEQ.tgz (incremental).\n";

export class IndexError extends BackupRefusedError {}

export function parseIndex(text: string, path: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const hash = lines[i]!.indexOf("#");
    const content = (hash < 0 ? lines[i]! : lines[i]!.slice(0, hash)).trim();
    const comment = hash < 0 ? "" : lines[i]!.slice(hash + 1).trim();
    if (content === "") continue;
    const where = `${path}:${i + 1}`;
    const fields = content.split(/\s+/);
    if (fields.length !== 3) throw new IndexError(`${where}: expected 3 fields (sequence, timestamp, tid), found ${fields.length}`);
    const [seqText, timestampText, tid] = fields as [string, string, string];
    if (!/^\d{1,9}$/.test(seqText) || Number(seqText) < 1) throw new IndexError(`${where}: bad sequence number ${JSON.stringify(seqText)}`);
    if (!/^\d{1,12}$/.test(timestampText)) throw new IndexError(`${where}: bad timestamp ${JSON.stringify(timestampText)}`);
    if (!hex16.test(tid)) throw new IndexError(`${where}: bad transaction id ${JSON.stringify(tid)} (expected 16 upper-case hex digits)`);
    const seq = Number(seqText);
    const previous = entries.at(-1);
    if (previous && seq <= previous.seq) {
      throw new IndexError(`${where}: sequence number ${seq} is not greater than ${previous.seq} on line ${previous.line}`);
    }
    const entry: IndexEntry = { seq, timestamp: Number(timestampText), tid, line: i + 1 };
    // A comment is items separated by "; " (older lines hold one item).
    for (const item of comment.split(";").map((t) => t.trim())) {
      const streamed = new RegExp(`^${STREAMED_MARK}\\s+(\\S+\\.tgz(?:\\.age)?)$`).exec(item);
      if (streamed) entry.streamedAs = streamed[1];
      const digest = new RegExp(`^${DIGEST_MARK}\\s+(\\S+)\\s+(\\d{1,15})\\s+([0-9a-f]{64})$`).exec(item);
      if (digest) (entry.digests ??= []).push({ name: digest[1]!, size: Number(digest[2]), sha256: digest[3]! });
    }
    if (comment.startsWith(`${PRUNED_MARK}:`)) entry.prunedReference = true;
    entries.push(entry);
  }
  return entries;
}

/** The comment items of a line: `# stdout NAME; sha256 NAME SIZE HEX; ...`. */
export function indexComment(items: { streamedAs?: string; digests?: ArchiveDigest[]; notes?: string[] }): string | undefined {
  const parts = [
    ...(items.streamedAs ? [`${STREAMED_MARK} ${items.streamedAs}`] : []),
    ...(items.digests ?? []).map((d) => `${DIGEST_MARK} ${d.name} ${d.size} ${d.sha256}`),
    ...(items.notes ?? []),
  ];
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/** `%-5d %-12d %s`, the original format; a comment may follow (everything after # is one). */
export function formatIndexLine(seq: number, timestamp: number, tid: string, comment?: string): string {
  return `${String(seq).padEnd(5)} ${String(timestamp).padEnd(12)} ${tid}${comment ? `  # ${comment}` : ""}\n`;
}

export function nextSequence(entries: IndexEntry[]): number {
  return entries.reduce((max, e) => Math.max(max, e.seq), 0) + 1;
}

/**
 * The reference for `inc WHEN`: the last entry before the first one whose
 * timestamp is later than WHEN (epoch seconds). Undefined if there is none.
 */
export function chooseReference(entries: IndexEntry[], whenSeconds: number): IndexEntry | undefined {
  let reference: IndexEntry | undefined;
  for (const entry of entries) {
    if (entry.timestamp > whenSeconds) break;
    reference = entry;
  }
  return reference;
}
