// `dsbackup restore --backups DIR --to TARGET [--at WHEN | --seq N]`: plan
// the shortest chain of archives, print it, and extract it safely.
import { ProblemsFoundError, UsageError } from "../errors.ts";
import { humanSize } from "../human-size.ts";
import { choosePrefix } from "../restore/catalog.ts";
import { checkTarget, restoreArchives } from "../restore/extract.ts";
import { count } from "../plural.ts";
import { AtPlanError, PlanError, planRestore, type RestorePoint } from "../restore/plan.ts";
import { progressFor } from "../restore/progress.ts";
import { checkPlan, formatProblem, type ArchiveCheck, type Problem } from "../restore/verify.ts";
import type { CatalogArchive } from "../restore/catalog.ts";
import { formatTid } from "../storage/records.ts";
import { parseWhen } from "../time/when.ts";
import { archiveJson, entryJson, json, kindLabel, openCatalog, showTime, showTimeAndUtc, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";
import { decryptionKeys, type DecryptOptions } from "./keys.ts";

export interface RestoreCommandOptions extends FolderOptions, DecryptOptions {
  /** `--to TARGET`: folder to create the restored storage home in (absent or empty). Required unless --dry-run. */
  to?: string;
  /** `--at WHEN`: restore the newest backup (of the prefix) taken at or before WHEN (inc's time strings). */
  at?: string;
  /** `--seq N`: restore backup sequence number N. Default (neither): the newest. */
  seq?: string | number;
  /** `--dry-run`: only print the plan (with --verify: and verify its archives). */
  dryRun?: boolean;
  /** `--verify`: also decode every record and check the transaction chain before TARGET appears. */
  verify?: boolean;
  /** `--json`: print the plan and result as one JSON document. */
  json?: boolean;
  /** `-q, --quiet`: no progress line and no messages on stderr but warnings and errors. */
  quiet?: boolean;
  /** `--skip ARCHIVE` (repeatable): archive names to leave out of the plan (a damaged one; the redundant chain is used instead). */
  skip?: string | string[];
}

/** Rephrase a refused --at: the instant asked (in TZ and UTC) and the times that can be restored. */
function atRefusal(err: AtPlanError, asked: string, ctx: CommandContext): PlanError {
  const { atSeconds, oldest, newest } = err.refusal;
  const range =
    oldest && newest
      ? `; restorable: oldest ${showTimeAndUtc(oldest.timestamp, ctx)} (sequence ${oldest.seq}), newest ${showTimeAndUtc(newest.timestamp, ctx)} (sequence ${newest.seq})`
      : "; nothing with this prefix can be restored";
  return new PlanError(`${err.message}: --at ${JSON.stringify(asked)} is ${showTimeAndUtc(atSeconds, ctx)}${range}`);
}

function restorePoint(options: RestoreCommandOptions, ctx: CommandContext): RestorePoint {
  if (options.at !== undefined && options.seq !== undefined) throw new UsageError("give --at WHEN or --seq N, not both");
  if (options.seq !== undefined) {
    const seq = /^\d{1,9}$/.test(String(options.seq)) ? Number(options.seq) : NaN;
    if (!(seq >= 1)) throw new UsageError(`--seq must be a sequence number, not ${JSON.stringify(String(options.seq))}`);
    return { seq };
  }
  if (options.at !== undefined) {
    try {
      const when = parseWhen(String(options.at), { now: ctx.now(), zone: ctx.env.TZ });
      if (!options.quiet && !options.json) ctx.log(`--at ${JSON.stringify(String(options.at))} ${when.description}`);
      return { atSeconds: Math.floor(when.date.getTime() / 1000) };
    } catch (err) {
      throw new UsageError(`--at: ${(err as Error).message}`, { cause: err });
    }
  }
  return { newest: true };
}

/** What `--verify` checked, said once at the end. */
function verifiedLine(checks: ArchiveCheck[], tid: string): string {
  const sum = (f: (c: ArchiveCheck) => number) => checks.reduce((n, c) => n + f(c), 0);
  const records = sum((c) => c.transactions.size + c.revisions.size);
  return (
    `Verified ${count(checks.length, "archive")} of the plan: ${count(sum((c) => c.entries), "entry", "entries")} (${humanSize(sum((c) => c.tarBytes))} of tar), ` +
    `${count(records, "record")} decoded with their checksums, and the transaction chain from the full backup to ${tid} unbroken`
  );
}

export async function restoreCommand(options: RestoreCommandOptions, ctx: CommandContext): Promise<number> {
  const point = restorePoint(options, ctx);
  if (options.to === undefined && !options.dryRun) throw new UsageError("restore needs --to TARGET (or --dry-run to only show the plan)");
  if (options.to !== undefined) checkTarget(String(options.to)); // refuse a bad TARGET before any work
  const keys = await decryptionKeys(options, ctx);
  const catalog = await openCatalog(options, ctx);
  const prefix = choosePrefix(catalog, options.prefix);
  const skip = new Set(options.skip === undefined ? [] : [options.skip].flat().map(String));
  for (const name of skip) {
    if (!catalog.archives.some((a) => a.name === name)) throw new UsageError(`--skip ${name}: no such archive in ${catalog.dir}`);
  }
  const usable = catalog.archives.filter((a) => !skip.has(a.name));
  let plan;
  try {
    plan = planRestore(catalog.entries, usable, prefix, point);
  } catch (err) {
    throw err instanceof AtPlanError ? atRefusal(err, String(options.at), ctx) : err;
  }
  const archives = plan.archives as CatalogArchive[];
  const progress = progressFor(ctx, Boolean(options.quiet), archives.reduce((n, a) => n + a.size, 0));
  const quietLog = options.quiet || options.json;
  const log = (m: string) => {
    progress.clear();
    if (!quietLog) ctx.log(m);
  };

  if (!options.json) {
    const lines = [
      `Restore point: sequence ${plan.point.seq}, backup taken ${showTime(plan.point.timestamp, ctx)}, newest transaction ${plan.point.tid} (${formatTid(plan.point.tid)})`,
      `Archives to extract, in order (${archives.length}):`,
      ...archives.map((a, i) => `  ${String(i + 1).padStart(2)}. ${a.name.padEnd(28)} ${kindLabel(a).padEnd(10)} ${humanSize(a.size).padStart(9)} compressed${a.encrypted ? ", encrypted (age)" : ""}`),
    ];
    ctx.stdout(`${lines.join("\n")}\n`);
  }

  let problems: Problem[] = [];
  let checks: ArchiveCheck[] = [];
  let restored = false;
  let target: string | null = null;
  try {
    if (options.dryRun) {
      if (options.verify) {
        ({ problems, checks } = await checkPlan(archives, catalog.entries, {
          records: true,
          signal: ctx.signal,
          keys,
          onArchive: (a) => {
            log(`Verifying ${a.name}`);
            progress.nextArchive();
          },
          onProgress: (p) => progress.update(p),
        }));
      }
    } else {
      const report = await restoreArchives({
        archives,
        entries: catalog.entries,
        target: options.to!,
        verify: Boolean(options.verify),
        signal: ctx.signal,
        keys,
        log,
        warn: (m) => {
          progress.clear();
          ctx.warn(m);
        },
        progress,
      });
      problems = report.problems;
      checks = report.checks;
      restored = report.restored;
      target = report.target;
    }
  } finally {
    progress.clear();
  }

  if (options.json) {
    ctx.stdout(
      json({
        backups: catalog.dir,
        prefix,
        point: entryJson(plan.point),
        archives: archives.map(archiveJson),
        target,
        dryRun: Boolean(options.dryRun),
        verify: Boolean(options.verify),
        restored,
        problems,
      }),
    );
  } else {
    for (const p of problems) ctx.stdout(`${formatProblem(p)}\n`);
  }
  if (problems.length > 0) {
    // The manual's policy keeps redundant incrementals for exactly this: say
    // whether the same point can be reached without the damaged archive.
    const damaged = problems[0]!.archive;
    let hint = "; `dsbackup list` shows the other restore points (choose one with --seq or --at)";
    if (archives.some((a) => a.name === damaged)) {
      try {
        const other = planRestore(catalog.entries, usable.filter((a) => a.name !== damaged), prefix, { seq: plan.point.seq });
        hint = `; the same point can be restored without it: add --skip ${damaged} (chain ${other.archives.map((a) => a.name).join(" ")})`;
      } catch {
        /* no other chain: keep the general hint */
      }
    }
    throw new ProblemsFoundError(
      `${count(problems.length, "problem")} found in ${damaged}${options.dryRun ? "" : `; nothing was written to ${target}`}${hint}`,
    );
  }
  if (options.verify) log(verifiedLine(checks, plan.point.tid));
  if (restored) log(`Restored sequence ${plan.point.seq} into ${target}`);
  return 0;
}
