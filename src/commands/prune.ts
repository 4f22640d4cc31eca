// `dsbackup --storage DIR prune --keep-full N [--dry-run]`.
import { UsageError } from "../errors.ts";
import { humanSize } from "../human-size.ts";
import { settleLeftovers } from "../location/leftovers.ts";
import { count } from "../plural.ts";
import { choosePrefix, readCatalog, readLocationIndex } from "../restore/catalog.ts";
import { applyPrune, planPrune } from "../restore/prune.ts";
import { openBackupsLocation, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";

export interface PruneCommandOptions extends FolderOptions {
  /** `--keep-full N`: keep the N newest full backups (of the prefix; of every prefix if it has none) and every restore point from the oldest of them on. Required. */
  keepFull?: string | number;
  /** `--dry-run`: only print what would be deleted. */
  dryRun?: boolean;
  /** `-q, --quiet`: no index-rewrite messages on stderr (the deleted archives are still listed on stdout). */
  quiet?: boolean;
}

export async function pruneCommand(options: PruneCommandOptions, ctx: CommandContext): Promise<number> {
  if (options.keepFull === undefined) throw new UsageError("prune needs --keep-full N");
  const keepFull = /^\d{1,9}$/.test(String(options.keepFull)) ? Number(options.keepFull) : NaN;
  if (!(keepFull >= 1)) throw new UsageError(`--keep-full must be a whole number of at least 1, not ${JSON.stringify(String(options.keepFull))}`);
  // A backup holds the location's lock while it writes: take it before reading
  // anything, so the plan printed is the plan carried out.
  const location = await openBackupsLocation(options, ctx);
  const lock = options.dryRun ? undefined : await location.lock({ purpose: "prune", warn: ctx.warn });
  try {
    if (lock) await settleLeftovers(location, (await readLocationIndex(location)).entries, ctx.warn);
    const catalog = await readCatalog(location);
    const prefix = choosePrefix(catalog, options.prefix);
    const plan = planPrune(catalog, prefix, keepFull);
    const lines: string[] = [];
    if (!plan.oldestKept) {
      const own = catalog.archives.filter((a) => a.prefix === prefix && a.kind === "full").length;
      const fulls = own > 0 ? own : catalog.archives.filter((a) => a.kind === "full").length;
      lines.push(`${count(fulls, "full backup")} ${own > 0 ? `with prefix ${prefix}` : "(of every prefix)"}, keeping ${keepFull}: nothing to prune`);
    } else {
      lines.push(`Keeping the ${count(keepFull, "newest full backup")} (from ${plan.oldestKept.name} on) and every restore point they serve`);
      for (const { archive, points } of plan.keptForOthers) {
        const others = [...new Set(catalog.archives.filter((a) => a.prefix !== prefix && points.includes(a.seq)).map((a) => a.prefix))];
        lines.push(`keeping ${archive.name}: restore ${points.length === 1 ? "point" : "points"} ${points.join(", ")} of prefix ${others.join(", ")} still ${points.length === 1 ? "needs" : "need"} it (prune --prefix ${others[0]} first)`);
      }
      // Each archive is named once: as the plan in a dry run, as it is deleted otherwise.
      if (options.dryRun) for (const a of plan.remove) lines.push(`would delete ${a.name} (${humanSize(a.size)} compressed)`);
    }
    ctx.stdout(lines.length > 0 ? `${lines.join("\n")}\n` : "");
    if (plan.oldestKept && !options.dryRun) {
      await applyPrune(catalog, plan, options.quiet ? () => {} : ctx.log, (a) => ctx.stdout(`deleted ${a.name} (${humanSize(a.size)} compressed)\n`));
    }
    if (plan.oldestKept) {
      const freed = plan.remove.reduce((n, a) => n + a.size, 0);
      ctx.stdout(
        `${options.dryRun ? "Would delete" : "Deleted"} ${count(plan.remove.length, "archive")} (${humanSize(freed)} compressed) and ${count(plan.dropEntries.length, "index line")}\n`,
      );
    }
  } finally {
    await lock?.release();
  }
  return 0;
}
