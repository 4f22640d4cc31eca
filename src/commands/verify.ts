// `dsbackup verify --backups DIR [ARCHIVE...]`: read every archive completely
// and check its gzip members, tar stream and records, its transaction chain
// against the index, and that every restore point has a chain of archives
// (across prefixes). Every problem is reported; exit 1 if any.
import { existsSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { openLocation } from "../location/open.ts";
import { ProblemsFoundError, UsageError } from "../errors.ts";
import { humanSize } from "../human-size.ts";
import type { IndexEntry } from "../index/tindex.ts";
import { count } from "../plural.ts";
import { prefixesOf, type Catalog, type CatalogArchive } from "../restore/catalog.ts";
import { chainTo, parseArchiveName, restorePoints } from "../restore/plan.ts";
import { progressFor } from "../restore/progress.ts";
import { checkArchive, crossCheck, formatProblem, type Problem } from "../restore/verify.ts";
import { readVerifyRecord, updateVerifyRecord, writeVerifyRecord } from "../monitoring/verify-record.ts";
import { archiveJson, json, openCatalog, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";
import { withRunMetrics, type RunMetrics } from "./run-metrics.ts";
import { decryptionKeys, hasKeys, type DecryptOptions } from "./keys.ts";
import { checkSealedArchive } from "../restore/verify-sealed.ts";

export interface VerifyCommandOptions extends FolderOptions, DecryptOptions {
  /** `--json`: print one JSON report on stdout. */
  json?: boolean;
  /** `-q, --quiet`: no progress line and no "Verifying" messages. */
  quiet?: boolean;
  /** `--metrics-file FILE`: merge the run's metrics (last verify result, bytes read, entries checked) into FILE, per prefix verified. */
  metricsFile?: string;
}

/** Every restore point (of `prefix`, or of every prefix) and the chain it needs, over archives of every prefix. */
function restoreChains(catalog: Catalog, prefix: string | undefined) {
  const prefixes = prefix === undefined ? prefixesOf(catalog) : [prefix];
  return prefixes.flatMap((p) =>
    restorePoints(catalog.entries, catalog.archives, p).map((e) => {
      const chain = chainTo(catalog.archives, e.seq, p);
      return { seq: e.seq, prefix: p, archives: typeof chain === "string" ? null : chain.map((a) => a.name), error: typeof chain === "string" ? chain : null };
    }),
  );
}

/**
 * The archives named on the command line (names in the folder or paths); else
 * every indexed one of the prefix and every archive its restore chains use
 * (they cross prefixes); else, with no index at all, every archive there is.
 */
function selectArchives(catalog: Catalog, names: string[], prefix: string | undefined, chains: ReturnType<typeof restoreChains>): CatalogArchive[] {
  if (names.length === 0) {
    if (!catalog.indexExists) return catalog.archives.filter((a) => prefix === undefined || a.prefix === prefix);
    const seqs = new Set(catalog.entries.map((e) => e.seq));
    const used = new Set(chains.flatMap((c) => c.archives ?? []));
    return catalog.archives.filter((a) => (seqs.has(a.seq) && (prefix === undefined || a.prefix === prefix)) || used.has(a.name));
  }
  return names.map((arg) => {
    const known = catalog.archives.find((a) => a.name === arg || a.location.where(a.name) === resolve(arg));
    if (known) return known;
    // An archive file outside the location (a path on this machine).
    const path = resolve(arg);
    const parsed = parseArchiveName(basename(path));
    if (!parsed || !existsSync(path)) throw new UsageError(`${arg}: no such archive in ${catalog.dir}`);
    return { ...parsed, location: openLocation(dirname(path)), size: statSync(path).size };
  });
}

/**
 * What this run found for each archive of the folder it read, for status
 * ("the newest point verified last time"). A folder that cannot take the
 * record (a read-only copy) only costs a warning.
 */
async function recordResults(catalog: Catalog, checked: { archive: CatalogArchive; ok: boolean }[], ctx: CommandContext): Promise<void> {
  const present = new Set(catalog.archives.map((a) => a.name));
  // Only the location's own archives (a path named elsewhere says nothing about them).
  const mine = checked.filter((c) => c.archive.location === catalog.location).map((c) => ({ name: c.archive.name, size: c.archive.size, ok: c.ok }));
  if (mine.length === 0) return;
  try {
    const now = Math.floor(ctx.now().getTime() / 1000);
    await writeVerifyRecord(catalog.location, updateVerifyRecord(await readVerifyRecord(catalog.location, ctx.warn), mine, now, present));
  } catch (err) {
    ctx.warn(`verify results not recorded in ${catalog.dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function verifyCommand(names: string[], options: VerifyCommandOptions, ctx: CommandContext): Promise<number> {
  return withRunMetrics(options.metricsFile, "verify", ctx, (metrics) => verify(names, options, ctx, metrics));
}

async function verify(names: string[], options: VerifyCommandOptions, ctx: CommandContext, metrics: RunMetrics): Promise<number> {
  const keys = await decryptionKeys(options, ctx);
  const keyless = !hasKeys(keys);
  const catalog = await openCatalog(options, ctx);
  const chains = names.length === 0 && catalog.indexExists ? restoreChains(catalog, options.prefix) : [];
  const archives = selectArchives(catalog, names, options.prefix, chains);
  // Samples per prefix verified: the one asked for, or those of the archives read (all of them, with no --prefix).
  metrics.prefixes.push(...(options.prefix !== undefined ? [options.prefix] : names.length > 0 ? archives.map((a) => a.prefix) : prefixesOf(catalog)));
  const progress = progressFor(ctx, Boolean(options.quiet), archives.reduce((n, a) => n + a.size, 0));
  const log = (m: string) => {
    progress.clear();
    if (!options.quiet && !options.json) ctx.log(m);
  };
  const problems: Problem[] = [];
  // An empty folder (an unmounted disk, a wrong path) must not look healthy.
  if (names.length === 0 && catalog.entries.length === 0 && catalog.archives.length === 0) {
    throw new ProblemsFoundError(`nothing to verify in ${catalog.dir}: no index entries and no archives`);
  }
  if (names.length === 0) {
    for (const e of catalog.missing) {
      problems.push({ archive: catalog.indexPath, message: `sequence ${e.seq} is in the index but none of its archives is in ${catalog.dir}` });
    }
    for (const c of chains) {
      if (c.error) problems.push({ archive: catalog.indexPath, message: `restore point ${c.seq} (prefix ${c.prefix}) cannot be restored: ${c.error}` });
    }
  }
  // Without an index, what the archives themselves say stands in for it: each
  // one's A/x.serial is the tid of its sequence, so incrementals are still
  // checked back to their reference archive's newest transaction.
  const entries: IndexEntry[] = catalog.indexExists ? catalog.entries : [];
  const results = [];
  const checked: { archive: CatalogArchive; ok: boolean }[] = [];
  /** Encrypted archives checked without a key: reported, not counted as problems (see README, Encryption). */
  const sealedOnly: string[] = [];
  try {
    for (const a of [...archives].sort((x, y) => x.seq - y.seq)) {
      log(`Verifying ${a.name}`);
      progress.nextArchive();
      if (a.encrypted && keyless) {
        const recorded = catalog.entries.find((e) => e.seq === a.seq)?.digests?.find((d) => d.name === a.name);
        const sealed = await checkSealedArchive(a, recorded);
        problems.push(...sealed.problems);
        sealedOnly.push(a.name);
        const ok = sealed.problems.length === 0;
        const whatChecked = `age header, size${sealed.digestChecked ? " and recorded sha256" : ""} checked`;
        results.push({ ...archiveJson(a), ok, checkedWithoutKey: true, recipients: sealed.age?.recipients ?? null, digestChecked: sealed.digestChecked, notChecked: sealed.notChecked, entries: null, tarBytes: null, newestTid: null, problems: sealed.problems });
        if (!options.json) {
          progress.clear();
          const to = sealed.age ? `encrypted to ${sealed.age.recipients}; ` : "";
          ctx.stdout(`${ok ? "ok    " : "FAILED"} ${a.name} (${to}${whatChecked}, ${humanSize(a.size)}; not checked without a key: ${sealed.notChecked.join(", ")})\n`);
          for (const p of sealed.problems) ctx.stdout(`    ${formatProblem(p)}\n`);
        }
        continue;
      }
      const check = await checkArchive(a, { records: true, signal: ctx.signal, onProgress: (p) => progress.update(p), keys, expectedSize: a.size || undefined });
      const found = [...check.problems, ...crossCheck(check, a, entries, { records: true })];
      if (!catalog.indexExists && check.newestTid !== undefined && !entries.some((e) => e.seq === a.seq)) {
        entries.push({ seq: a.seq, timestamp: 0, tid: check.newestTid, line: 0 });
      }
      problems.push(...found);
      checked.push({ archive: a, ok: found.length === 0 });
      results.push({
        ...archiveJson(a),
        ok: found.length === 0,
        checkedWithoutKey: false,
        entries: check.entries,
        tarBytes: check.tarBytes,
        newestTid: check.newestTid ?? null,
        // Whether its size and sha256 were checked against those recorded when it was written.
        digestChecked: a.digest !== undefined,
        problems: found,
      });
      if (!options.json) {
        progress.clear();
        ctx.stdout(
          `${found.length === 0 ? "ok    " : "FAILED"} ${a.name} (${count(check.entries, "entry", "entries")}, ${humanSize(check.tarBytes)} of tar, ${humanSize(a.size)} compressed, ` +
            `${a.digest ? (found.length === 0 ? "size and sha256 as recorded" : "size and sha256 recorded") : "no sha256 recorded: an older archive"})\n`,
        );
        for (const p of found) ctx.stdout(`    ${formatProblem(p)}\n`);
      }
    }
  } finally {
    progress.clear();
    await recordResults(catalog, checked, ctx);
  }
  metrics.values.dsbackup_archive_bytes = results.reduce((n, r) => n + r.size, 0);
  metrics.values.dsbackup_files = results.reduce((n, r) => n + (r.entries ?? 0), 0);
  metrics.values.dsbackup_last_verify_success = problems.length === 0 ? 1 : 0;
  if (!catalog.indexExists) {
    problems.push({ archive: catalog.indexPath, message: `the index is missing; \`dsbackup rebuild-index --backups ${catalog.dir}\` writes a new one from the archives` });
  }
  if (options.json) {
    ctx.stdout(json({ backups: catalog.dir, ok: problems.length === 0, indexMissing: !catalog.indexExists, checkedWithoutKey: sealedOnly, archives: results, restorePoints: chains, problems }));
  } else if (names.length === 0 || !catalog.indexExists) {
    for (const p of problems.filter((p) => p.archive === catalog.indexPath)) ctx.stdout(`${formatProblem(p)}\n`);
  }
  if (problems.length > 0) {
    const failed = results.filter((r) => !r.ok).length;
    const missing = catalog.indexExists ? "" : `${catalog.indexPath} is missing; `;
    throw new ProblemsFoundError(`${missing}verify found ${count(problems.length, "problem")} (${failed} of ${count(results.length, "archive")} failed)`);
  }
  log(`${count(results.length, "archive")} verified${chains.length > 0 ? `, ${count(chains.length, "restore point")} with a whole chain` : ""}, no problems`);
  if (sealedOnly.length > 0) {
    log(`${count(sealedOnly.length, "encrypted archive")} checked without a key (age header, size, and sha256 where the index records one): give --identity FILE or --passphrase-file FILE to check their records and chains too`);
  }
  return 0;
}
