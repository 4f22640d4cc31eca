// The progress line of restore and verify on a terminal: files, bytes, rate
// and ETA. The plan's archive sizes are known up front, so the ETA comes from
// the compressed bytes read so far against their sum.
import { humanRate, humanSize } from "../human-size.ts";
import { count } from "../plural.ts";
import { clock, terminalLine } from "../terminal-line.ts";

/** How far one archive has been read (cumulative within that archive). */
export interface ArchiveProgress {
  files: number;
  /** Decompressed tar bytes. */
  tarBytes: number;
  /** Compressed bytes read from the archive file. */
  readBytes: number;
}

/** Pure: the text of the line. */
export function readProgressText(p: ArchiveProgress, totalReadBytes: number, elapsedSeconds: number): string {
  const rate = elapsedSeconds > 0 ? p.readBytes / elapsedSeconds : 0;
  let text = `${count(p.files, "file")}  ${humanSize(p.readBytes)} of ${humanSize(totalReadBytes)} compressed  ${humanSize(p.tarBytes)} of tar  ${humanRate(rate)}`;
  if (p.readBytes > 0 && p.readBytes < totalReadBytes && elapsedSeconds > 0) {
    text += `  ETA ${clock((elapsedSeconds / p.readBytes) * (totalReadBytes - p.readBytes))}`;
  }
  return text;
}

export interface PlanProgress {
  /** A new archive starts: what the previous one reached counts as done. */
  nextArchive(): void;
  update(p: ArchiveProgress): void;
  /** Erase the line (before any other message, and at the end). */
  clear(): void;
}

/**
 * A throttled progress line over several archives, written with `write`
 * (raw stderr); the caller decides whether to show one at all.
 */
export function planProgress(write: (s: string) => void, totalReadBytes: number, now = () => performance.now()): PlanProgress {
  const line = terminalLine(write, now);
  const done: ArchiveProgress = { files: 0, tarBytes: 0, readBytes: 0 };
  let current: ArchiveProgress = { files: 0, tarBytes: 0, readBytes: 0 };
  return {
    nextArchive() {
      done.files += current.files;
      done.tarBytes += current.tarBytes;
      done.readBytes += current.readBytes;
      current = { files: 0, tarBytes: 0, readBytes: 0 };
    },
    update(p) {
      current = { ...p };
      const sum = { files: done.files + p.files, tarBytes: done.tarBytes + p.tarBytes, readBytes: done.readBytes + p.readBytes };
      line.show((elapsed) => readProgressText(sum, totalReadBytes, elapsed));
    },
    clear: () => line.clear(),
  };
}

/** A progress line when stderr is a terminal and not quiet; otherwise one that does nothing. */
export function progressFor(
  ctx: { isTerminal: boolean; writeStderr: (s: string) => void },
  quiet: boolean,
  totalReadBytes: number,
): PlanProgress {
  if (quiet || !ctx.isTerminal) return { nextArchive() {}, update() {}, clear() {} };
  return planProgress(ctx.writeStderr, totalReadBytes);
}
