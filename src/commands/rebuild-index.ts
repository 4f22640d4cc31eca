// `dsbackup rebuild-index --backups DIR [--force]`: write a new tindex from
// the archives alone (a copy that lost its index), then list, verify and
// restore work on the folder again.
import { ProblemsFoundError } from "../errors.ts";
import { rebuildIndex } from "../index/rebuild.ts";
import { count } from "../plural.ts";
import { progressFor } from "../restore/progress.ts";
import { formatProblem } from "../restore/verify.ts";
import { formatTid } from "../storage/records.ts";
import { openBackupsLocation, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";
import { decryptionKeys, type DecryptOptions } from "./keys.ts";

export interface RebuildIndexOptions extends Omit<FolderOptions, "prefix">, DecryptOptions {
  /** `--force`: replace an existing tindex, keeping it as tindex.old-TIMESTAMP (UTC, e.g. tindex.old-20261120T101500Z). Default: refuse (exit 13). */
  force?: boolean;
  /** `-q, --quiet`: no progress line and no messages but warnings and errors. */
  quiet?: boolean;
}

export async function rebuildIndexCommand(options: RebuildIndexOptions, ctx: CommandContext): Promise<number> {
  const location = await openBackupsLocation(options, ctx);
  const keys = await decryptionKeys(options, ctx);
  const progress = progressFor(ctx, Boolean(options.quiet), 0);
  const log = (m: string) => {
    progress.clear();
    if (!options.quiet) ctx.log(m);
  };
  let report;
  try {
    report = await rebuildIndex({
      location,
      warn: (m) => {
        progress.clear();
        ctx.warn(m);
      },
      force: Boolean(options.force),
      now: ctx.now(),
      signal: ctx.signal,
      keys,
      onArchive: (a) => {
        log(`Reading ${a.name}`);
        progress.nextArchive();
      },
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.clear();
  }
  for (const l of report.lines) {
    const what = l.referenceOnly ? `reference of ${l.from}, tid from its transaction chain` : `from ${l.from}`;
    ctx.stdout(`${String(l.seq).padEnd(5)} ${l.tid} (${formatTid(l.tid)})  ${what}\n`);
  }
  for (const p of report.problems) ctx.stdout(`left out: ${formatProblem(p)}\n`);
  log(`Wrote ${report.indexPath}: ${count(report.lines.length, "line")}${report.oldIndexPath ? `; the old index is kept as ${report.oldIndexPath}` : ""}`);
  if (report.problems.length > 0) {
    throw new ProblemsFoundError(`${count(report.problems.length, "problem")}: the archives named above are not in the new index ${report.indexPath}`);
  }
  return 0;
}
