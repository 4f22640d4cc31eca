// `dsbackup verify --backups DIR [ARCHIVE...]`: read every archive completely
// and check its gzip members, tar stream and records, and its transaction
// chain against the index. Every problem is reported; exit 1 if any.
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { ProblemsFoundError, UsageError } from "../errors.ts";
import { humanSize } from "../human-size.ts";
import { type Catalog, type CatalogArchive } from "../restore/catalog.ts";
import { parseArchiveName } from "../restore/plan.ts";
import { checkArchive, crossCheck, formatProblem, type Problem } from "../restore/verify.ts";
import { archiveJson, json, openCatalog, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";

export interface VerifyCommandOptions extends FolderOptions {
  json?: boolean;
  quiet?: boolean;
}

/** The archives named on the command line (names in the folder or paths), or every indexed one. */
function selectArchives(catalog: Catalog, names: string[], prefix: string | undefined): CatalogArchive[] {
  if (names.length === 0) {
    const seqs = new Set(catalog.entries.map((e) => e.seq));
    return catalog.archives.filter((a) => seqs.has(a.seq) && (prefix === undefined || a.prefix === prefix));
  }
  return names.map((arg) => {
    const known = catalog.archives.find((a) => a.name === arg || a.path === resolve(arg));
    if (known) return known;
    const path = resolve(arg);
    const parsed = parseArchiveName(basename(path));
    if (!parsed || !existsSync(path)) throw new UsageError(`${arg}: no such archive in ${catalog.dir}`);
    return { ...parsed, path, size: 0 };
  });
}

export async function verifyCommand(names: string[], options: VerifyCommandOptions, ctx: CommandContext): Promise<number> {
  const catalog = openCatalog(options, ctx);
  const archives = selectArchives(catalog, names, options.prefix);
  const log = options.quiet || options.json ? () => {} : ctx.log;
  const problems: Problem[] = [];
  // An empty folder (an unmounted disk, a wrong path) must not look healthy.
  if (names.length === 0 && catalog.entries.length === 0 && catalog.archives.length === 0) {
    throw new ProblemsFoundError(`nothing to verify in ${catalog.dir}: no index entries and no archives`);
  }
  if (names.length === 0) {
    for (const e of catalog.missing) {
      problems.push({ archive: catalog.indexPath, message: `sequence ${e.seq} is in the index but none of its archives is in ${catalog.dir}` });
    }
  }
  const results = [];
  for (const a of archives) {
    log(`Verifying ${a.name}`);
    const check = await checkArchive(a.path, { records: true, signal: ctx.signal });
    const found = [...check.problems, ...crossCheck(check, a, catalog.entries, { records: true })];
    problems.push(...found);
    results.push({ ...archiveJson(a), ok: found.length === 0, entries: check.entries, tarBytes: check.tarBytes, newestTid: check.newestTid ?? null, problems: found });
    if (!options.json) {
      ctx.stdout(`${found.length === 0 ? "ok    " : "FAILED"} ${a.name} (${check.entries} entries, ${humanSize(check.tarBytes)} of tar)\n`);
      for (const p of found) ctx.stdout(`    ${formatProblem(p)}\n`);
    }
  }
  if (options.json) ctx.stdout(json({ backups: catalog.dir, ok: problems.length === 0, archives: results, problems }));
  else if (names.length === 0) for (const p of problems.filter((p) => p.archive === catalog.indexPath)) ctx.stdout(`${formatProblem(p)}\n`);
  if (problems.length > 0) {
    const failed = results.filter((r) => !r.ok).length;
    throw new ProblemsFoundError(`verify found ${problems.length} problem${problems.length === 1 ? "" : "s"} (${failed} of ${results.length} archives failed)`);
  }
  log(`${results.length} archive${results.length === 1 ? "" : "s"} verified, no problems`);
  return 0;
}
