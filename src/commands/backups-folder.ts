// Options shared by list, restore, verify and prune: which backups folder,
// which prefix, and how restore points and times are shown.
import { UsageError } from "../errors.ts";
import { backupsDirectory } from "../backup/run.ts";
import type { IndexEntry } from "../index/tindex.ts";
import { readCatalog, type Catalog, type CatalogArchive } from "../restore/catalog.ts";
import { validatePrefix } from "../backup/plan.ts";
import { resolveHome, type SnapshotEnvironment } from "../snapshot/session.ts";
import { dateFromTid, ZERO_TID } from "../storage/records.ts";
import { formatTime } from "../time/format.ts";
import type { CommandContext } from "./context.ts";

export interface FolderOptions {
  storage?: string;
  backups?: string;
  prefix?: string;
}

/** The folder named by `--backups DIR`, or `--storage DIR`'s backups/ folder. */
export function backupsFolder(options: FolderOptions, ctx: CommandContext): string {
  if (options.prefix !== undefined) validatePrefix(String(options.prefix));
  if (options.backups !== undefined) {
    if (options.storage !== undefined) throw new UsageError("give --backups DIR or --storage DIR, not both");
    return String(options.backups);
  }
  if (options.storage === undefined && ctx.env.SNAPSHOT_VERSION === undefined) {
    throw new UsageError("give --storage DIR (its backups/ folder) or --backups DIR (a backups folder, e.g. a copy)");
  }
  return backupsDirectory(resolveHome(options.storage, ctx.env as SnapshotEnvironment));
}

/** The catalog of `--backups DIR`, or of `--storage DIR`'s backups/ folder. */
export function openCatalog(options: FolderOptions, ctx: CommandContext): Catalog {
  return readCatalog(backupsFolder(options, ctx));
}

/** A snapshot time as the operator's clock shows it. */
export function showTime(epochSeconds: number, ctx: CommandContext): string {
  return formatTime(new Date(epochSeconds * 1000), "%Y-%m-%d %H:%M:%S %Z", { zone: ctx.env.TZ });
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
  return { name: a.name, prefix: a.prefix, kind: a.kind, reference: a.reference ?? null, seq: a.seq, size: a.size };
}

/** "full" or "REF-to-SEQ". */
export function kindLabel(a: { kind: string; reference?: number | null; seq: number }): string {
  return a.kind === "full" ? "full" : `${a.reference}-to-${a.seq}`;
}
