// Options shared by list, restore, verify and prune: which backups folder,
// which prefix, and how restore points and times are shown.
import { readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { INDEX_NAME } from "../index/index-file.ts";
import { parseArchiveName } from "../restore/plan.ts";
import { backupsDirectory } from "../backup/run.ts";
import type { IndexEntry } from "../index/tindex.ts";
import { readCatalog, type Catalog, type CatalogArchive } from "../restore/catalog.ts";
import { parseLocation, type Location } from "../location/location.ts";
import { openLocation } from "../location/open.ts";
import { validatePrefix } from "../backup/plan.ts";
import { resolveHome, type SnapshotEnvironment } from "../snapshot/session.ts";
import { dateFromTid, ZERO_TID } from "../storage/records.ts";
import { formatTime } from "../time/format.ts";
import type { CommandContext } from "./context.ts";

export interface FolderOptions {
  /** `--storage DIR`: a storage home; its backups/ folder is used. */
  storage?: string;
  /** `--backups LOCATION`: a folder holding tindex and the archives (a copy, a mounted tape), or s3://BUCKET/PATH. */
  backups?: string;
  /** `--prefix NAME`: the prefix whose archives end the restore chains (default: the only one in the folder). */
  prefix?: string;
}

const isDir = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** Holds a tindex or an archive: what a backups folder has and a storage home has not. */
function looksLikeBackupsFolder(dir: string): boolean {
  if (statSync(join(dir, INDEX_NAME), { throwIfNoEntry: false })?.isFile()) return true;
  try {
    return readdirSync(dir).some((n) => parseArchiveName(n) !== undefined);
  } catch {
    return false;
  }
}

/**
 * The two easy mistakes: a backups folder given as --storage, and a storage
 * home given as --backups. Each is a usage error giving the right spelling.
 */
function checkFolderKind(options: FolderOptions): void {
  if (options.backups !== undefined && parseLocation(String(options.backups)).kind === "s3") return;
  if (options.backups !== undefined) {
    const dir = resolve(String(options.backups));
    if (isDir(dir) && !looksLikeBackupsFolder(dir) && isDir(join(dir, "A"))) {
      throw new UsageError(`${dir} is a storage home, not a backups folder: use --storage ${dir} (or --backups ${join(dir, "backups")})`);
    }
  } else if (options.storage !== undefined && options.storage !== "") {
    const dir = resolve(String(options.storage));
    if (isDir(dir) && !isDir(join(dir, "A")) && !isDir(join(dir, "backups")) && looksLikeBackupsFolder(dir)) {
      const parent = dirname(dir);
      const home = basename(dir) === "backups" && isDir(join(parent, "A")) ? ` (or --storage ${parent})` : "";
      throw new UsageError(`${dir} is a backups folder, not a storage home: use --backups ${dir}${home}`);
    }
  }
}

/** The location named by `--backups LOCATION`, or `--storage DIR`'s backups/ folder. */
export function backupsFolder(options: FolderOptions, ctx: CommandContext): string {
  if (options.prefix !== undefined) validatePrefix(String(options.prefix));
  if (options.backups !== undefined && options.storage !== undefined) throw new UsageError("give --backups LOCATION or --storage DIR, not both");
  checkFolderKind(options);
  if (options.backups !== undefined) return String(options.backups);
  if (options.storage === undefined && ctx.env.SNAPSHOT_VERSION === undefined) {
    throw new UsageError("give --storage DIR (its backups/ folder) or --backups LOCATION (a backups folder, e.g. a copy, or s3://BUCKET/PATH)");
  }
  return backupsDirectory(resolveHome(options.storage, ctx.env as SnapshotEnvironment));
}

/**
 * The location named by `--backups LOCATION`, or `--storage DIR`'s backups/
 * folder, opened (a bucket is checked first: a missing one or refused
 * credentials get their own error before anything else is tried).
 */
export async function openBackupsLocation(options: FolderOptions, ctx: CommandContext): Promise<Location> {
  return openChecked(backupsFolder(options, ctx), ctx);
}

/** Open a location string (folder or s3://BUCKET/PATH) with the run's environment and signal. */
export async function openChecked(text: string, ctx: CommandContext): Promise<Location> {
  const location = openLocation(text, { env: ctx.env, signal: ctx.signal });
  await location.checkBucket?.();
  return location;
}

/** The catalog of `--backups LOCATION`, or of `--storage DIR`'s backups/ folder. */
export async function openCatalog(options: FolderOptions, ctx: CommandContext): Promise<Catalog> {
  return readCatalog(await openBackupsLocation(options, ctx));
}

/** A snapshot time as the operator's clock shows it. */
export function showTime(epochSeconds: number, ctx: CommandContext): string {
  return formatTime(new Date(epochSeconds * 1000), "%Y-%m-%d %H:%M:%S %Z", { zone: ctx.env.TZ });
}

/** An instant in TZ and in UTC (once, when TZ is UTC): "2026-11-20 13:00:00 CET (2026-11-20 12:00:00 UTC)". */
export function showTimeAndUtc(epochSeconds: number, ctx: CommandContext): string {
  const local = showTime(epochSeconds, ctx);
  const utc = formatTime(new Date(epochSeconds * 1000), "%Y-%m-%d %H:%M:%S UTC", { utc: true });
  return local === utc ? utc : `${local} (${utc})`;
}

export function isoTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(".000Z", "Z");
}

/** The JSON form of an index entry, shared by list and restore plans. */
export function entryJson(e: IndexEntry) {
  return {
    seq: e.seq,
    timestamp: e.timestamp,
    time: isoTime(e.timestamp),
    tid: e.tid,
    tidTime: e.tid === ZERO_TID ? null : dateFromTid(e.tid).toISOString(),
    streamedAs: e.streamedAs ?? null,
  };
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The JSON form of an archive, shared by list, restore plans and verify. */
export function archiveJson(a: CatalogArchive) {
  return { name: a.name, prefix: a.prefix, kind: a.kind, reference: a.reference ?? null, seq: a.seq, size: a.size, encrypted: a.encrypted };
}

/** "full" or "REF-to-SEQ". */
export function kindLabel(a: { kind: string; reference?: number | null; seq: number }): string {
  return a.kind === "full" ? "full" : `${a.reference}-to-${a.seq}`;
}
