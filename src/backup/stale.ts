// Temporary files left in backups/ by a run that died (SIGKILL, power loss).
// Only files this host's dsbackup provably made are considered: the name is
// `.tmp-HOST-PID-FINALNAME` with our host name and a pid that no longer runs.
// Acted on at the start of every backup run, which holds the storage's
// sublock (itself, or through the snapshot tool that runs it) and the index
// lock, so no other run can be writing.
//
// A run writes archives to temporary names, fsyncs them, writes the index
// line (atomic replacement of tindex: the commit point), then renames the
// archives. So a dead run's archive whose sequence number is the newest in
// the index was complete and committed: it is renamed to its final name.
// Only the newest: every run settles leftovers before it takes a sequence
// number, so a leftover of an older sequence cannot be that run's; it is
// removed like everything else that was never committed (archives without
// an index line, tindex copies).
import { existsSync, readdirSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fileError } from "../errors.ts";
import { deadOwnTemps, fsyncDirectory, processAlive } from "../fsutil/atomic.ts";
import type { IndexEntry } from "../index/tindex.ts";

export interface StaleTemp {
  name: string;
  pid: number;
  finalName: string;
  /** "complete": rename to finalName; "remove": never committed. */
  action: "complete" | "remove";
}

/** The sequence number an archive name ends with (`P-7.tgz`, `P-5-to-7.tgz`), if it is an archive name. */
export function archiveSequence(finalName: string): number | undefined {
  const m = /-(\d{1,9})\.tgz$/.exec(finalName);
  return m ? Number(m[1]) : undefined;
}

/** Decide what to do with each of this host's temporary files whose process is gone. Pure but for the liveness check. */
export function findStaleTemps(
  names: string[],
  index: IndexEntry[],
  existing: (finalName: string) => boolean,
  alive: (pid: number) => boolean = processAlive,
): StaleTemp[] {
  const newest = index.at(-1)?.seq;
  return deadOwnTemps(names, alive).map((temp) => {
    const seq = archiveSequence(temp.finalName);
    const complete = seq !== undefined && seq === newest && !existing(temp.finalName);
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
