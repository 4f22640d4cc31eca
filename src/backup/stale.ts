// Temporary files left in backups/ by a run that died (SIGKILL, power loss).
// Only files this host's dsbackup provably made are considered: the name is
// `.tmp-HOST-PID-FINALNAME` with our host name and a pid that no longer runs.
// Acted on at the start of every backup run, which holds the storage's
// sublock (itself, or through the snapshot tool that runs it) and the index
// lock, so no other run can be writing.
//
// A run writes archives to temporary names, fsyncs them, writes the index
// line (atomic replacement of tindex: the commit point), then renames the
// archives. So a dead run's archive whose sequence number has an index line
// was complete and committed: it is renamed to its final name. That line is
// provably its own run's: no run takes a sequence number that a leftover
// (of any host or process, dead or alive) already carries (see
// `sequenceAfterLeftovers`). Everything else (archives without an index
// line, tindex copies) was never committed and is removed.
import { existsSync, readdirSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fileError } from "../errors.ts";
import { deadOwnTemps, fsyncDirectory, processAlive, TEMP_PREFIX } from "../fsutil/atomic.ts";
import type { IndexEntry } from "../index/tindex.ts";

export interface StaleTemp {
  name: string;
  pid: number;
  finalName: string;
  /** "complete": rename to finalName; "remove": never committed. */
  action: "complete" | "remove";
}

/** The sequence number an archive name ends with (`P-7.tgz`, `P-5-to-7.tgz`, `P-7.tgz.age`), if it is an archive name. */
export function archiveSequence(finalName: string): number | undefined {
  const m = /-(\d{1,9})\.tgz(?:\.age)?$/.exec(finalName);
  return m ? Number(m[1]) : undefined;
}

/** Decide what to do with each of this host's temporary files whose process is gone. Pure but for the liveness check. */
export function findStaleTemps(
  names: string[],
  index: IndexEntry[],
  existing: (finalName: string) => boolean,
  alive: (pid: number) => boolean = processAlive,
): StaleTemp[] {
  const committed = new Set(index.map((e) => e.seq));
  return deadOwnTemps(names, alive).map((temp) => {
    const seq = archiveSequence(temp.finalName);
    const complete = seq !== undefined && committed.has(seq) && !existing(temp.finalName);
    return { ...temp, action: complete ? "complete" : "remove" };
  });
}

/** Complete or remove stale temporary files in backups/; reports each through `report`. */
export function recoverStaleTemps(backupsDir: string, index: IndexEntry[], report: (message: string) => void): StaleTemp[] {
  let names: string[];
  try {
    names = readdirSync(backupsDir);
  } catch (err) {
    throw fileError("read directory", backupsDir, err);
  }
  const stale = findStaleTemps(names, index, (finalName) => existsSync(join(backupsDir, finalName)));
  for (const temp of stale) {
    const path = join(backupsDir, temp.name);
    if (temp.action === "complete") {
      try {
        renameSync(path, join(backupsDir, temp.finalName));
      } catch (err) {
        throw fileError("rename", path, err);
      }
      report(`Completed ${join(backupsDir, temp.finalName)}: process ${temp.pid} wrote it and its index line, then stopped before renaming ${temp.name}`);
    } else {
      try {
        unlinkSync(path);
      } catch (err) {
        throw fileError("remove", path, err);
      }
      report(`Removed ${path}: left unfinished by process ${temp.pid}, which is no longer running`);
    }
  }
  if (stale.length > 0) fsyncDirectory(backupsDir);
  return stale;
}

/**
 * The sequence number for a new run: past the index and past every archive
 * name in the folder, temporary or final, whoever made it. A number a
 * leftover carries is never reused, so an index line for it can only have
 * been written by the run that made the leftover.
 */
export function sequenceAfterLeftovers(nextInIndex: number, names: string[]): number {
  let next = nextInIndex;
  for (const name of names) {
    const seq = archiveSequence(name.startsWith(TEMP_PREFIX) ? name.slice(TEMP_PREFIX.length) : name);
    if (seq !== undefined && seq >= next) next = seq + 1;
  }
  return next;
}
