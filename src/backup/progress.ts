// The progress line shown on a terminal while an archive is written: files,
// bytes, rate and, when the previous full backup's file count is known, ETA.
import { readSmallObject, writeSmallObject, type Location } from "../location/location.ts";
import { clock, terminalLine } from "../terminal-line.ts";

/** Remembered after each full backup so the next one can estimate its ETA. */
export const STATS_NAME = ".dsbackup-stats.json";

export interface BackupStats {
  fullFiles: number;
  fullBytes: number;
}

export async function readStats(location: Location): Promise<BackupStats | undefined> {
  try {
    const s = JSON.parse((await readSmallObject(location, STATS_NAME)) ?? "");
    return Number.isFinite(s.fullFiles) && Number.isFinite(s.fullBytes) ? s : undefined;
  } catch {
    return undefined; // absent or unreadable: no ETA, nothing else depends on it
  }
}

export async function writeStats(location: Location, stats: BackupStats): Promise<void> {
  await writeSmallObject(location, STATS_NAME, `${JSON.stringify(stats)}\n`);
}

const MiB = 1024 * 1024;

/** Pure: the text of the progress line. */
export function progressText(p: { files: number; bytes: number }, elapsedSeconds: number, expectedFiles?: number): string {
  const rate = elapsedSeconds > 0 ? p.bytes / MiB / elapsedSeconds : 0;
  let text = `${p.files.toLocaleString("en-US")} files  ${(p.bytes / MiB).toFixed(1)} MiB  ${rate.toFixed(1)} MiB/s`;
  if (expectedFiles && p.files > 0 && p.files < expectedFiles) {
    text += `  ETA ${clock((elapsedSeconds / p.files) * (expectedFiles - p.files))}`;
  }
  return text;
}

export interface ProgressLine {
  update(p: { files: number; bytes: number }): void;
  /** Erase the line before the next message. */
  clear(): void;
}

export function progressLine(write: (s: string) => void, expectedFiles?: number, now = () => performance.now()): ProgressLine {
  const line = terminalLine(write, now);
  return {
    update: (p) => line.show((elapsed) => progressText(p, elapsed, expectedFiles)),
    clear: () => line.clear(),
  };
}
