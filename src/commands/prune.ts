// `dsbackup --storage DIR prune RULE... [--dry-run] [--json]`: restic's
// retention rules (or --keep-full N alone, the original rule) over one
// prefix's restore points, under the index lock.
import { UsageError } from "../errors.ts";
import { humanSize } from "../human-size.ts";
import { settleLeftovers } from "../location/leftovers.ts";
import type { IndexEntry } from "../index/tindex.ts";
import { count } from "../plural.ts";
import { choosePrefix, readCatalog, readLocationIndex, type Catalog, type CatalogArchive } from "../restore/catalog.ts";
import { chainTo } from "../restore/plan.ts";
import { applyPrune, planPrune, type PrunePlan } from "../restore/prune.ts";
import { planRetention, type PointVerdict } from "../retention/plan.ts";
import { CALENDAR_RULES, describePolicy, isEmptyPolicy, parseCount, parseDuration, type RetentionPolicy } from "../retention/policy.ts";
import { retentionTable } from "../retention/report.ts";
import { restorablePoints, type ChainOf } from "../retention/select.ts";
import { resolveZone } from "../time/zone.ts";
import { archiveJson, isoTime, json, openBackupsLocation, showTime, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";
import { withRunMetrics, type RunMetrics } from "./run-metrics.ts";

type Count = number | string;

export interface PruneCommandOptions extends FolderOptions {
  /** `--keep-full N`: keep every point whose chain starts from one of the N newest full backups; alone, the original rule (and every point after the oldest of them). */
  keepFull?: Count;
  /** `--keep-last N`: the N newest restore points (N or `unlimited`). */
  keepLast?: Count;
  /** `--keep-hourly N`: the newest point of each of the N newest hours with one (N or `unlimited`); likewise daily, weekly (ISO weeks), monthly, yearly, in TZ. */
  keepHourly?: Count;
  keepDaily?: Count;
  keepWeekly?: Count;
  keepMonthly?: Count;
  keepYearly?: Count;
  /** `--keep-within DURATION`: every point within DURATION (restic's `2y5m7d3h`) of the newest. */
  keepWithin?: string;
  /** `--keep-within-hourly DURATION`: the newest point of each hour within DURATION of the newest; likewise daily, weekly, monthly, yearly. */
  keepWithinHourly?: string;
  keepWithinDaily?: string;
  keepWithinWeekly?: string;
  keepWithinMonthly?: string;
  keepWithinYearly?: string;
  /** `--dry-run`: only print what would be kept and deleted. */
  dryRun?: boolean;
  /** `--json`: the restore points, their reasons and the deletions as one JSON document on stdout. */
  json?: boolean;
  /** `--metrics-file FILE`: merge this run's metrics (restorable points left, bytes left) into FILE. */
  metricsFile?: string;
  /** `-q, --quiet`: no index-rewrite messages on stderr (the deleted archives are still listed on stdout). */
  quiet?: boolean;
}

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** The policy the options name; a usage error when they name none. */
export function policyOf(o: PruneCommandOptions): RetentionPolicy {
  const n = (v: Count | undefined, option: string) => (v === undefined ? undefined : parseCount(String(v), option));
  const d = (v: string | undefined, option: string) => (v === undefined ? undefined : parseDuration(String(v), option));
  const policy: RetentionPolicy = { last: n(o.keepLast, "--keep-last"), within: d(o.keepWithin, "--keep-within"), full: n(o.keepFull, "--keep-full") };
  for (const rule of CALENDAR_RULES) {
    policy[rule] = n(o[`keep${cap(rule)}` as keyof PruneCommandOptions] as Count | undefined, `--keep-${rule}`);
    policy[`within${cap(rule)}` as "withinDaily"] = d(o[`keepWithin${cap(rule)}` as keyof PruneCommandOptions] as string | undefined, `--keep-within-${rule}`);
  }
  if (isEmptyPolicy(policy)) {
    const given = Object.values(policy).some((v) => v !== undefined);
    throw new UsageError(
      `prune needs a rule that keeps something${given ? " (every count given is 0)" : ""}: --keep-last N, --keep-daily N (hourly, weekly, monthly, yearly), --keep-within DURATION or --keep-full N`,
    );
  }
  return policy;
}

/** Only `--keep-full N`: the original rule, kept as it was (it also keeps redundant incrementals past the oldest kept full). */
const onlyKeepFull = (p: RetentionPolicy) => Object.entries(p).every(([k, v]) => k === "full" || v === undefined);

export function pruneCommand(options: PruneCommandOptions, ctx: CommandContext): Promise<number> {
  return withRunMetrics(options.metricsFile, "prune", ctx, (metrics) => prune(options, ctx, metrics));
}

async function prune(options: PruneCommandOptions, ctx: CommandContext, metrics: RunMetrics): Promise<number> {
  const policy = policyOf(options);
  // A backup holds the location's lock while it writes: take it before reading
  // anything, so the plan printed is the plan carried out.
  const location = await openBackupsLocation(options, ctx);
  const lock = options.dryRun ? undefined : await location.lock({ purpose: "prune", warn: ctx.warn });
  try {
    if (lock) await settleLeftovers(location, (await readLocationIndex(location)).entries, ctx.warn);
    const catalog = await readCatalog(location);
    const prefix = choosePrefix(catalog, options.prefix);
    metrics.prefixes.push(prefix);
    const chainOf: ChainOf = (p, seq) => chainTo(catalog.archives, seq, p);
    const { deletion, document } = onlyKeepFull(policy) ? keepFullPrune(catalog, prefix, policy.full!, chainOf, options, ctx) : policyPrune(catalog, prefix, policy, chainOf, options, ctx);
    if (deletion && !options.dryRun) {
      const say = options.json ? () => {} : (a: CatalogArchive) => ctx.stdout(`deleted ${a.name} (${humanSize(a.size)} compressed)\n`);
      await applyPrune(catalog, deletion, options.quiet ? () => {} : ctx.log, say);
    }
    // The document once the deletions are done, so it never claims what did not happen.
    if (document) ctx.stdout(json(document));
    else if (deletion) {
      const freed = deletion.remove.reduce((n, a) => n + a.size, 0);
      ctx.stdout(`${options.dryRun ? "Would delete" : "Deleted"} ${count(deletion.remove.length, "archive")} (${humanSize(freed)} compressed) and ${count(deletion.dropEntries.length, "index line")}\n`);
    }
    // What is left (as it is, for a dry run).
    const gone = new Set(options.dryRun || !deletion ? [] : deletion.remove.map((a) => a.name));
    const left = catalog.archives.filter((a) => !gone.has(a.name));
    metrics.values.dsbackup_restorable_points = restorablePoints(catalog.entries, left, prefix, (p, seq) => chainTo(left, seq, p)).length;
    metrics.values.dsbackup_archive_bytes = left.filter((a) => a.prefix === prefix).reduce((n, a) => n + a.size, 0);
  } finally {
    await lock?.release();
  }
  return 0;
}

type Deletion = Pick<PrunePlan, "remove" | "dropEntries" | "referenceEntries">;
/** What to delete (nothing when there is nothing to judge), and the --json document to print after. */
type Outcome = { deletion?: Deletion; document?: ReturnType<typeof pruneJson> };

/** restic's rules: the table (or the JSON document); the deletions to carry out, if any. */
function policyPrune(catalog: Catalog, prefix: string, policy: RetentionPolicy, chainOf: ChainOf, options: PruneCommandOptions, ctx: CommandContext): Outcome {
  const plan = planRetention({ entries: catalog.entries, archives: catalog.archives, prefix, policy, zone: resolveZone(ctx.env.TZ), now: Math.floor(ctx.now().getTime() / 1000), chainOf });
  const sel = plan.selection;
  if (options.json) return { deletion: sel, document: pruneJson(catalog, plan.policy, prefix, options, plan.points, sel) };
  const lines = retentionTable(plan, (t) => showTime(t, ctx));
  if (sel) {
    lines.push("");
    for (const k of plan.keptForOthers) lines.push(keptForOthersLine(k.archive.name, k.points, k.prefixes));
    if (options.dryRun) for (const a of sel.remove) lines.push(`would delete ${a.name} (${humanSize(a.size)} compressed)`);
  }
  ctx.stdout(`${lines.join("\n")}\n`);
  return { deletion: sel };
}

/** `--keep-full N` alone: today's plan and output; --json the same document as the other rules. */
function keepFullPrune(catalog: Catalog, prefix: string, keepFull: number, chainOf: ChainOf, options: PruneCommandOptions, ctx: CommandContext): Outcome {
  const plan = planPrune(catalog, prefix, keepFull);
  if (options.json) {
    const removed = new Set(plan.remove.map((a) => a.name));
    const oldest = plan.oldestKept?.seq ?? -Infinity;
    const points: PointVerdict[] = restorablePoints(catalog.entries, catalog.archives, prefix, chainOf)
      .map((p) => {
        const keep = p.entry.seq >= oldest;
        const chain = p.chain.map((a) => a.name);
        return { seq: p.entry.seq, timestamp: p.entry.timestamp, keep, reasons: keep ? ["full backup"] : [], chain, stillRestorable: !keep && chain.every((n) => !removed.has(n)) };
      })
      .reverse();
    const deletion = plan.oldestKept ? plan : undefined;
    return { deletion, document: pruneJson(catalog, describePolicy({ full: keepFull }), prefix, options, points, deletion) };
  }
  const lines: string[] = [];
  if (!plan.oldestKept) {
    const own = catalog.archives.filter((a) => a.prefix === prefix && a.kind === "full").length;
    const fulls = own > 0 ? own : catalog.archives.filter((a) => a.kind === "full").length;
    lines.push(`${count(fulls, "full backup")} ${own > 0 ? `with prefix ${prefix}` : "(of every prefix)"}, keeping ${keepFull}: nothing to prune`);
  } else {
    lines.push(`Keeping the ${count(keepFull, "newest full backup")} (from ${plan.oldestKept.name} on) and every restore point they serve`);
    for (const { archive, points } of plan.keptForOthers) {
      const others = [...new Set(catalog.archives.filter((a) => a.prefix !== prefix && points.includes(a.seq)).map((a) => a.prefix))];
      lines.push(keptForOthersLine(archive.name, points, others));
    }
    // Each archive is named once: as the plan in a dry run, as it is deleted otherwise.
    if (options.dryRun) for (const a of plan.remove) lines.push(`would delete ${a.name} (${humanSize(a.size)} compressed)`);
  }
  ctx.stdout(`${lines.join("\n")}\n`);
  return { deletion: plan.oldestKept ? plan : undefined };
}

function keptForOthersLine(name: string, points: number[], prefixes: string[]): string {
  const one = points.length === 1;
  return `keeping ${name}: restore ${one ? "point" : "points"} ${points.join(", ")} of prefix ${prefixes.join(", ")} still ${one ? "needs" : "need"} it (prune --prefix ${prefixes[0]} first)`;
}

/** The --json document (keys documented in the README): every point newest first, then what goes. */
function pruneJson(catalog: Catalog, policy: string, prefix: string, options: PruneCommandOptions, points: PointVerdict[], sel: Deletion | undefined) {
  const remove = sel?.remove ?? [];
  return {
    backups: catalog.dir,
    prefix,
    policy,
    dryRun: Boolean(options.dryRun),
    points: points.map((p) => ({ seq: p.seq, timestamp: p.timestamp, time: isoTime(p.timestamp), keep: p.keep, reasons: p.reasons, chain: p.chain, stillRestorable: p.stillRestorable })),
    remove: remove.map(archiveJson),
    removeBytes: remove.reduce((n, a) => n + a.size, 0),
    dropLines: (sel?.dropEntries ?? []).map((e: IndexEntry) => e.seq),
    referenceLines: (sel?.referenceEntries ?? []).map((r) => ({ seq: r.entry.seq, by: r.by })),
  };
}
