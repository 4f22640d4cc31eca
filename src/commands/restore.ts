// `dsbackup restore --backups DIR --to TARGET [--at WHEN | --seq N]`: plan
// the shortest chain of archives, print it, and extract it safely.
import { ProblemsFoundError, UsageError } from "../errors.ts";
import { humanSize } from "../human-size.ts";
import { choosePrefix } from "../restore/catalog.ts";
import { checkTarget, restoreArchives } from "../restore/extract.ts";
import { planRestore, type RestorePoint } from "../restore/plan.ts";
import { checkPlan, formatProblem, type Problem } from "../restore/verify.ts";
import type { CatalogArchive } from "../restore/catalog.ts";
import { formatTid } from "../storage/records.ts";
import { parseWhen } from "../time/when.ts";
import { archiveJson, entryJson, json, kindLabel, openCatalog, showTime, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";

export interface RestoreCommandOptions extends FolderOptions {
  to?: string;
  at?: string;
  seq?: string | number;
  dryRun?: boolean;
  verify?: boolean;
  json?: boolean;
  quiet?: boolean;
  /** Archive names to leave out of the plan (a damaged one; the redundant chain is used instead). */
  skip?: string | string[];
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

export async function restoreCommand(options: RestoreCommandOptions, ctx: CommandContext): Promise<number> {
  const point = restorePoint(options, ctx);
  if (options.to === undefined && !options.dryRun) throw new UsageError("restore needs --to TARGET (or --dry-run to only show the plan)");
  if (options.to !== undefined) checkTarget(String(options.to)); // refuse a bad TARGET before any work
  const catalog = openCatalog(options, ctx);
  const prefix = choosePrefix(catalog, options.prefix);
  const skip = new Set(options.skip === undefined ? [] : [options.skip].flat().map(String));
  for (const name of skip) {
    if (!catalog.archives.some((a) => a.name === name)) throw new UsageError(`--skip ${name}: no such archive in ${catalog.dir}`);
  }
  const usable = catalog.archives.filter((a) => !skip.has(a.name));
  const plan = planRestore(catalog.entries, usable, prefix, point);
  const archives = plan.archives as CatalogArchive[];
  const log = options.quiet || options.json ? () => {} : ctx.log;

  if (!options.json) {
    const lines = [
      `Restore point: sequence ${plan.point.seq}, backup taken ${showTime(plan.point.timestamp, ctx)}, newest transaction ${plan.point.tid} (${formatTid(plan.point.tid)})`,
      `Archives to extract, in order (${archives.length}):`,
      ...archives.map((a, i) => `  ${String(i + 1).padStart(2)}. ${a.name.padEnd(28)} ${kindLabel(a).padEnd(10)} ${humanSize(a.size).padStart(6)}`),
    ];
    ctx.stdout(`${lines.join("\n")}\n`);
  }

  let problems: Problem[] = [];
  let restored = false;
  let target: string | null = null;
  if (options.dryRun) {
    if (options.verify) {
      ({ problems } = await checkPlan(archives, catalog.entries, {
        records: true,
        signal: ctx.signal,
        onArchive: (a) => log(`Verifying ${a.name}`),
      }));
    }
  } else {
    const report = await restoreArchives({
      archives,
      entries: catalog.entries,
      target: options.to!,
      verify: Boolean(options.verify),
      signal: ctx.signal,
      log,
      warn: ctx.warn,
    });
    problems = report.problems;
    restored = report.restored;
    target = report.target;
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
      `${problems.length} problem${problems.length === 1 ? "" : "s"} found in ${damaged}${options.dryRun ? "" : `; nothing was written to ${target}`}${hint}`,
    );
  }
  if (restored) log(`Restored sequence ${plan.point.seq} into ${target}`);
  else if (options.verify) log("Every archive of the plan verified");
  return 0;
}
