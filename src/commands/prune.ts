// `dsbackup --storage DIR prune --keep-full N [--dry-run]`.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { humanSize } from "../human-size.ts";
import { lockIndex } from "../index/index-file.ts";
import { choosePrefix } from "../restore/catalog.ts";
import { applyPrune, planPrune } from "../restore/prune.ts";
import { backupsFolder, openCatalog, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";

export interface PruneCommandOptions extends FolderOptions {
  keepFull?: string | number;
  dryRun?: boolean;
  quiet?: boolean;
}

export async function pruneCommand(options: PruneCommandOptions, ctx: CommandContext): Promise<number> {
  if (options.keepFull === undefined) throw new UsageError("prune needs --keep-full N");
  const keepFull = /^\d{1,9}$/.test(String(options.keepFull)) ? Number(options.keepFull) : NaN;
  if (!(keepFull >= 1)) throw new UsageError(`--keep-full must be a whole number of at least 1, not ${JSON.stringify(String(options.keepFull))}`);
  // A backup holds the index lock while it appends: take it before reading
  // anything, so the plan printed is the plan carried out.
  const dir = resolve(backupsFolder(options, ctx));
  // (A missing folder is left for openCatalog to report.)
  const lock = options.dryRun || !existsSync(dir) ? undefined : lockIndex(dir, "prune");
  try {
    const catalog = openCatalog(options, ctx);
    const prefix = choosePrefix(catalog, options.prefix);
    const plan = planPrune(catalog, prefix, keepFull);
    const lines: string[] = [];
    if (!plan.oldestKept) {
      const fulls = catalog.archives.filter((a) => a.prefix === prefix && a.kind === "full").length;
      lines.push(`${fulls} full backup${fulls === 1 ? "" : "s"} with prefix ${prefix}, keeping ${keepFull}: nothing to prune`);
    } else {
      lines.push(`Keeping the ${keepFull} newest full backups (from ${plan.oldestKept.name} on) and every restore point they serve`);
      const freed = plan.remove.reduce((n, a) => n + a.size, 0);
      for (const a of plan.remove) lines.push(`${options.dryRun ? "would delete" : "delete"} ${a.name}`);
      lines.push(`${plan.remove.length} archive${plan.remove.length === 1 ? "" : "s"}, ${humanSize(freed)}; ${plan.dropEntries.length} index line${plan.dropEntries.length === 1 ? "" : "s"}`);
    }
    ctx.stdout(`${lines.join("\n")}\n`);
    if (!options.dryRun) applyPrune(catalog, plan, options.quiet ? () => {} : ctx.log);
  } finally {
    lock?.release();
  }
  return 0;
}
