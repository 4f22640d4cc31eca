// Restoring: extract a plan's archives, in order, into a temporary folder
// beside TARGET (node-tar parses, tree-writer.ts writes, the entry rules
// decide), check them as they stream by, make the tree durable, and rename
// the folder into place only when every archive extracted and checked
// cleanly. A failure leaves no TARGET and no temporary folder.
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ContextError, DsError, InterruptedError, UsageError, fileError } from "../errors.ts";
import { deadOwnTemps, fsyncDirectory, syncFileSystemOf, tempNameFor } from "../fsutil/atomic.ts";
import type { IndexEntry } from "../index/tindex.ts";
import type { CatalogArchive } from "./catalog.ts";
import type { PlanProgress } from "./progress.ts";
import { treeWriterSink } from "./tree-writer.ts";
import { checkArchiveKeys, NO_KEYS, type DecryptionKeys } from "../crypto/index.ts";
import { archiveBytes } from "./archive-stream.ts";
import { checkPlan, type ArchiveCheck, type Problem } from "./verify.ts";

/** Folders a storage home has besides config/ and A/; created empty. */
const EMPTY_FOLDERS = ["B", "journal", "misc", "backups"];

/** Restore folders of earlier runs for this TARGET whose process is gone (killed): ours to remove. */
function removeStaleTemps(target: string, log: (message: string) => void): void {
  const parent = dirname(target);
  for (const temp of deadOwnTemps(readdirSync(parent))) {
    if (temp.finalName !== basename(target)) continue;
    const path = join(parent, temp.name);
    rmSync(path, { recursive: true, force: true });
    log(`Removed ${path}: left unfinished by process ${temp.pid}, which is no longer running`);
  }
}

export interface RestoreOptions {
  archives: CatalogArchive[];
  entries: IndexEntry[];
  target: string;
  /** Decode and check every record and the transaction chain (restore --verify). */
  verify: boolean;
  signal?: AbortSignal;
  log: (message: string) => void;
  /** Shown even under -q (default: log). */
  warn?: (message: string) => void;
  /** The progress line, told of each archive and of how far it has been read. */
  progress?: PlanProgress;
  /** Identities or passphrases for the plan's NAME.tgz.age archives. */
  keys?: DecryptionKeys;
}

export interface RestoreReport {
  target: string;
  checks: ArchiveCheck[];
  problems: Problem[];
  /** true when TARGET now holds the restored storage. */
  restored: boolean;
}

/** TARGET must be absent or an empty directory, and its parent must exist. */
export function checkTarget(targetArg: string): string {
  const target = resolve(targetArg);
  let st;
  try {
    st = lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw fileError("examine", target, err);
  }
  if (st) {
    if (!st.isDirectory()) throw new UsageError(`${target} exists and is not a directory; restore into an empty or new folder`);
    if (readdirSync(target).length > 0) throw new UsageError(`${target} is not empty; restore into an empty or new folder`);
  }
  const parent = dirname(target);
  try {
    if (!statSync(parent).isDirectory()) throw new UsageError(`${parent} is not a directory`);
  } catch (err) {
    if (err instanceof DsError) throw err;
    throw fileError("use", parent, err);
  }
  return target;
}

/** Every file and folder below `dir` (folders after their content). */
function treeOf(dir: string, files: string[], dirs: string[]): void {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, d.name);
    if (d.isDirectory()) treeOf(path, files, dirs);
    else if (d.isFile()) files.push(path);
  }
  dirs.push(dir);
}

/** Parallel fsyncs, so the file system can commit many in one journal write. */
const FSYNC_CONCURRENCY = 32;

/** fsync every file and folder below (and including) `dir`. */
async function fsyncTree(dir: string): Promise<void> {
  const files: string[] = [];
  const dirs: string[] = [];
  treeOf(dir, files, dirs);
  const syncOne = async (path: string) => {
    let handle;
    try {
      handle = await open(path, "r");
      await handle.sync();
    } catch (err) {
      throw fileError("fsync", path, err);
    } finally {
      await handle?.close();
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < files.length) await syncOne(files[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(FSYNC_CONCURRENCY, files.length) }, worker));
  for (const d of dirs) fsyncDirectory(d);
}

export async function restoreArchives(opts: RestoreOptions): Promise<RestoreReport> {
  const target = checkTarget(opts.target);
  // Every encrypted archive's key is tried before anything is created: a
  // wrong or missing key throws (exit 21), a damaged header is a problem.
  const keyProblem = await checkArchiveKeys(opts.archives, opts.keys ?? NO_KEYS, (a) => archiveBytes(a)).catch((err) => {
    throw err instanceof DsError ? new ContextError(`${err.message}; nothing was written to ${target}`, err) : err;
  });
  if (keyProblem) return { target, checks: [], problems: [keyProblem], restored: false };
  removeStaleTemps(target, opts.warn ?? opts.log);
  const temp = tempNameFor(target);
  try {
    mkdirSync(temp, { mode: 0o750 });
  } catch (err) {
    throw fileError("create", temp, err);
  }
  const report: RestoreReport = { target, checks: [], problems: [], restored: false };
  try {
    const { checks, problems } = await checkPlan(opts.archives, opts.entries, {
      records: opts.verify,
      signal: opts.signal,
      keys: opts.keys,
      onArchive: (archive) => {
        opts.progress?.nextArchive();
        opts.log(`Extracting ${archive.name}`);
      },
      onProgress: opts.progress ? (p) => opts.progress!.update(p) : undefined,
      sinkFor: (archive, refuse) => treeWriterSink(temp, (entry, message) => refuse({ archive: archive.name, entry, message })),
    });
    report.checks.push(...checks);
    report.problems.push(...problems);
    if (report.problems.length > 0) return report;
    if (!statSync(join(temp, "A"), { throwIfNoEntry: false })?.isDirectory()) {
      report.problems.push({ archive: opts.archives[0]!.name, message: "no A/ folder was restored" });
      return report;
    }
    for (const name of ["config", ...EMPTY_FOLDERS]) mkdirSync(join(temp, name), { recursive: true });
    rmSync(join(temp, "misc", "snapshot"), { force: true });
    // The temporary folder was private (0750) while incomplete; the finished
    // home gets an ordinary folder's mode, as mkdir would give it.
    try {
      chmodSync(temp, 0o777 & ~process.umask());
    } catch (err) {
      throw fileError("set the mode of", temp, err);
    }
    if (!syncFileSystemOf(temp)) await fsyncTree(temp);
    try {
      renameSync(temp, target);
    } catch (err) {
      throw fileError("rename into place", target, err);
    }
    report.restored = true;
    fsyncDirectory(dirname(target));
    return report;
  } catch (err) {
    if (err instanceof DsError && !(err instanceof InterruptedError) && !report.restored) {
      throw new ContextError(`${err.message}; nothing was written to ${target}`, err);
    }
    throw err;
  } finally {
    if (!report.restored) rmSync(temp, { recursive: true, force: true });
  }
}
