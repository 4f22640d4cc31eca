// Temporary files left in backups/ by a run that died (SIGKILL, power loss).
// Only files this host's dsbackup provably made are considered: the name is
// `.tmp-HOST-PID-FINALNAME` with our host name and a pid that no longer runs.
// Acted on only while dsbackup itself holds the storage's lock, so no other
// run can be writing.
//
// A run writes archives to temporary names, fsyncs them, writes the index
// line (atomic replacement of tindex: the commit point), then renames the
// archives. So a dead run's archive whose sequence number has an index line
// was complete and committed: it is renamed to its final name. Everything
// else (archives without an index line, tindex copies) was never committed
// and is removed.
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
  const committed = new Set(index.map((e) => e.seq));
  return deadOwnTemps(names, alive).map((temp) => {
    const seq = archiveSequence(temp.finalName);
    const complete = seq !== undefined && committed.has(seq) && !existing(temp.finalName);
    return { ...temp, action: complete ? "complete" : "remove" };
  });
}

/**
 * Complete or remove stale temporary files in backups/; reports each through
 * `report`. With `holdsLock` false (under the snapshot tool, which holds the
 * lock for us) they are only reported: we cannot prove no other run is live.
 */
export function recoverStaleTemps(backupsDir: string, index: IndexEntry[], report: (message: string) => void, holdsLock = true): StaleTemp[] {
  let names: string[];
  try {
    names = readdirSync(backupsDir);
  } catch (err) {
    throw fileError("read directory", backupsDir, err);
  }
  const stale = findStaleTemps(names, index, (finalName) => existsSync(join(backupsDir, finalName)));
  for (const temp of stale) {
    const path = join(backupsDir, temp.name);
    if (!holdsLock) {
      report(`${path} was left by process ${temp.pid}, which is no longer running; not touched (run without the snapshot tool to clean up)`);
      continue;
    }
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
  if (holdsLock && stale.length > 0) fsyncDirectory(backupsDir);
  return stale;
}
