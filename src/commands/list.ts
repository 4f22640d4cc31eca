// `dsbackup --storage DIR list` / `dsbackup list --backups DIR`: every index
// entry with its archives and what a restore to it needs; archives the index
// does not know and entries whose archives are gone.
import { humanSize } from "../human-size.ts";
import { prefixesOf, type Catalog } from "../restore/catalog.ts";
import { chainTo } from "../restore/plan.ts";
import { count } from "../plural.ts";
import { formatTid } from "../storage/records.ts";
import { archiveJson, entryJson, json, kindLabel, openCatalog, showTime, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";

export interface ListOptions extends FolderOptions {
  /** `--json`: print one JSON document on stdout. */
  json?: boolean;
}

export function listReport(catalog: Catalog, prefix: string | undefined) {
  const prefixes = prefix === undefined ? prefixesOf(catalog) : [prefix];
  const archives = catalog.archives.filter((a) => prefixes.includes(a.prefix));
  return {
    backups: catalog.dir,
    index: catalog.indexPath,
    prefixes,
    entries: catalog.entries.map((e) => ({
      ...entryJson(e),
      archives: archives.filter((a) => a.seq === e.seq).map(archiveJson),
      restore: Object.fromEntries(
        prefixes
          .filter((p) => archives.some((a) => a.prefix === p && a.seq === e.seq))
          .map((p) => {
            // The chain may use archives of every prefix; p only ends it.
            const chain = chainTo(catalog.archives, e.seq, p);
            return [p, typeof chain === "string" ? { archives: null, error: chain } : { archives: chain.map((a) => a.name), error: null }];
          }),
      ),
    })),
    unindexedArchives: catalog.unindexed.filter((a) => prefixes.includes(a.prefix)).map(archiveJson),
    missingArchives: catalog.missing.map(entryJson),
  };
}

export async function listCommand(options: ListOptions, ctx: CommandContext): Promise<number> {
  const catalog = await openCatalog(options, ctx);
  const report = listReport(catalog, options.prefix);
  if (options.json) {
    ctx.stdout(json(report));
    return 0;
  }
  const out: string[] = [`Backups in ${report.backups} (index ${report.index}, ${count(report.entries.length, "entry", "entries")})`];
  if (!catalog.indexExists) out.push(`No index: ${report.index} is missing; \`dsbackup rebuild-index --backups ${report.backups}\` writes one from the archives`);
  for (const e of report.entries) {
    out.push("");
    out.push(`${e.seq}  ${showTime(e.timestamp, ctx)}  newest transaction ${e.tid} (${formatTid(e.tid)})`);
    if (e.archives.length === 0) {
      out.push(e.streamedAs ? `    written to standard output as ${e.streamedAs}; put it in this folder to restore from it` : "    no archive");
    }
    for (const a of e.archives) {
      out.push(`    ${a.name.padEnd(28)} ${kindLabel(a).padEnd(10)} ${humanSize(a.size).padStart(9)} compressed${a.encrypted ? ", encrypted (age)" : ""}`);
    }
    for (const [prefix, plan] of Object.entries(e.restore)) {
      const label = report.prefixes.length > 1 ? ` (${prefix})` : "";
      out.push(plan.archives ? `    restore${label} needs: ${plan.archives.join(" ")}` : `    cannot restore${label}: ${plan.error}`);
    }
  }
  if (report.unindexedArchives.length > 0) {
    out.push("", "Archives not in the index:");
    for (const a of report.unindexedArchives) out.push(`    ${a.name}`);
  }
  if (report.missingArchives.length > 0) {
    out.push("", "Index entries without any archive:");
    for (const e of report.missingArchives) out.push(`    ${e.seq}  ${showTime(e.timestamp, ctx)}  ${e.tid}`);
  }
  ctx.stdout(`${out.join("\n")}\n`);
  return 0;
}
