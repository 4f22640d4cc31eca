#!/usr/bin/env bun
// Entry point: argument wiring (cac) and the one place where errors become an
// exit status and a single line on stderr.
import cac from "cac";
import { DsError, ExitCode, InterruptedError, UsageError, exitCodeDescriptions } from "./errors.ts";
import { backupCommand } from "./commands/backup.ts";
import { listCommand } from "./commands/list.ts";
import { pruneCommand } from "./commands/prune.ts";
import { restoreCommand } from "./commands/restore.ts";
import { verifyCommand } from "./commands/verify.ts";
import { DateUsageError, runDate } from "./commands/date.ts";
import { snapshotCommand } from "./commands/snapshot.ts";
import { InvalidDateError } from "./time/parse.ts";
import type { CommandContext } from "./commands/context.ts";
import { version, versionLine } from "./version.ts";

const PROGRAM = "dsbackup";

/** Options that take a value; their value is shielded from cac, which would read "-36 hours" as flags. */
const VALUE_OPTIONS = new Set(["--skip", "--storage", "--output", "--level", "--jobs", "--prefix", "--backups", "--to", "--at", "--seq", "--keep-full", "--wait"]);
/**
 * Boolean options with a dash in their name: cac does not declare these as
 * boolean to its parser, which would then take the next word as their value.
 */
const KEBAB_FLAGS = new Set(["--or-full", "--dry-run"]);
/** Positional words of the backup language whose next word is a value. */
const VALUE_WORDS = new Set(["inc", "prefix"]);

/**
 * Replace values that could look like options with placeholders that cac
 * passes through untouched, and give back a function restoring them.
 */
function shieldValues(argv: string[]): { argv: string[]; restore: (value: unknown) => unknown } {
  const saved: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (KEBAB_FLAGS.has(token)) {
      out.push(`${token}=true`);
      continue;
    }
    out.push(token);
    if (token === "--") {
      out.push(...argv.slice(i + 1));
      break;
    }
    if ((VALUE_OPTIONS.has(token) || VALUE_WORDS.has(token)) && i + 1 < argv.length) {
      saved.push(argv[++i]!);
      out.push(`\u0000${saved.length - 1}`);
    }
  }
  const restoreOne = (v: unknown): unknown => {
    if (typeof v === "string" && v.startsWith("\u0000")) return saved[Number(v.slice(1))];
    if (Array.isArray(v)) return v.map(restoreOne);
    if (v === "true") return true;
    return v;
  };
  return { argv: out, restore: restoreOne };
}

function helpFooter(): string {
  const codes = exitCodeDescriptions.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`).join("\n");
  return `Exit status:\n${codes}`;
}

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  // `date` parses GNU-style options itself (-d "-1 day", -Iseconds, +FORMAT).
  if (argv[0] === "date") return runDate(argv.slice(1), { stdout: ctx.stdout, env: ctx.env });
  // `snapshot` too: COMMAND's own arguments must reach it untouched.
  if (argv[0] === "snapshot") return snapshotCommand(argv.slice(1), ctx);
  const { argv: shielded, restore } = shieldValues(argv);
  const cli = cac(PROGRAM);
  let result: Promise<number> | undefined;
  const restoreOptions = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, restore(v)]));

  cli
    .command("[...words]", "Take backups: [prefix NAME] full | inc WHEN ... (commands run left to right, one sequence number)")
    .usage("--storage DIR [prefix NAME] full|inc WHEN ...")
    .option("--storage <dir>", "Storage home directory (not needed under `dsbackup snapshot`)")
    .option("--or-full", "For inc: take a full backup when there is no reference backup")
    .option("--output <target>", "'-' writes the single archive to standard output")
    .option("--level <n>", "gzip level 1-9 (default 6)")
    .option("--jobs <n>", "Compression workers (default: number of cores)")
    .option("-q, --quiet", "Only warnings and errors on stderr")
    .option("--json", "Print the run's summary as one JSON document on stdout (not with --output -)")
    .option("--wait <seconds>", "Keep retrying this long while the storage is locked or busy (default 0)")
    .example('dsbackup --storage /var/zope/storage full')
    .example('dsbackup --storage /var/zope/storage prefix mystorage inc "36 hours ago"')
    .action((words: string[], options: Record<string, unknown>) => {
      const restored = restore(words) as string[];
      if (restored.length === 0) {
        cli.outputHelp();
        result = Promise.reject(new UsageError("no command given (see above)"));
        return;
      }
      result = backupCommand(restored, restoreOptions(options), ctx);
    });

  const folderOptions = (command: ReturnType<typeof cli.command>) =>
    command
      .option("--storage <dir>", "Storage home: use its backups/ folder")
      .option("--backups <dir>", "A backups folder (tindex and archives), e.g. one copied elsewhere")
      .option("--prefix <name>", "Archive name prefix (default: the only one in the folder)")
      .option("-q, --quiet", "Only warnings and errors on stderr");

  folderOptions(cli.command("list", "List the index entries, their archives and what restoring each needs"))
    .usage("list (--storage DIR | --backups DIR) [--prefix P] [--json]")
    .option("--json", "Machine-readable output (see README)")
    .example("dsbackup --storage /var/zope/storage list")
    .example("dsbackup list --backups /mnt/tape/backups --json")
    .action((options: Record<string, unknown>) => {
      result = listCommand(restoreOptions(options), ctx);
    });

  folderOptions(cli.command("restore", "Restore a storage from its backups into an empty or new folder"))
    .usage("restore (--backups DIR | --storage DIR) --to TARGET [--at WHEN | --seq N] [--skip ARCHIVE] [--prefix P] [--verify] [--dry-run] [--json]")
    .option("--to <target>", "Folder to create the restored storage in (must be empty or absent)")
    .option("--skip <archive>", "Leave this archive out of the plan (a damaged one); repeatable")
    .option("--at <when>", "Restore the newest backup taken at or before WHEN (same time strings as inc)")
    .option("--seq <n>", "Restore backup sequence number N")
    .option("--dry-run", "Only print the plan (with --verify: and verify its archives)")
    .option("--verify", "Also check every record and the transaction chain before TARGET appears")
    .option("--json", "Print the plan (and result) as JSON")
    .example("dsbackup restore --backups /var/zope/storage/backups --to /var/zope/restored")
    .example('dsbackup restore --backups /mnt/backups --to /tmp/s --at "2026-11-20 12:00" --verify')
    .action((options: Record<string, unknown>) => {
      result = restoreCommand(restoreOptions(options), ctx);
    });

  folderOptions(cli.command("verify [...archives]", "Read archives completely and check every record; exit 1 on any problem"))
    .usage("verify (--backups DIR | --storage DIR) [ARCHIVE...] [--prefix P] [--json]")
    .option("--json", "Machine-readable report (see README)")
    .example("dsbackup verify --backups /var/zope/storage/backups")
    .example("dsbackup --storage /var/zope/storage verify backup-12.tgz")
    .action((archives: string[], options: Record<string, unknown>) => {
      result = verifyCommand(restore(archives) as string[], restoreOptions(options), ctx);
    });

  folderOptions(cli.command("prune", "Delete archives older than the N newest full backups that no kept restore point needs"))
    .usage("prune (--storage DIR | --backups DIR) --keep-full N [--prefix P] [--dry-run]")
    .option("--keep-full <n>", "How many full backups (and everything after the oldest of them) to keep")
    .option("--dry-run", "Only show what would be deleted")
    .example("dsbackup --storage /var/zope/storage prune --keep-full 2")
    .action((options: Record<string, unknown>) => {
      result = pruneCommand(restoreOptions(options), ctx);
    });
  cli
    .command("date [...args]", "Print a time like GNU date: [-d STRING] [-u] [-I[FMT]] [-R] [+FORMAT]")
    .allowUnknownOptions()
    .example('dsbackup date -d "36 hours ago" +%s');

  cli
    .command("snapshot [...command]", "Run COMMAND with the storage held in snapshot mode (see dsbackup snapshot --help)")
    .usage("snapshot --storage DIR [-v] [-q] [-t SECONDS] [-s SECONDS] [--snapshot-conf FILE] [--] COMMAND [ARGS...]")
    .allowUnknownOptions()
    .example("dsbackup snapshot --storage /var/zope/storage -t 600 -- dsbackup full");

  cli.help((sections) => {
    if (sections[0]?.body.startsWith(`${PROGRAM}/`)) sections[0] = { body: `${PROGRAM} ${version}` };
    sections.push({ body: helpFooter() });
    return sections;
  });
  cli.version(version, "-V, --version"); // -v is snapshot's --verbose
  // cac would print "dsbackup/VERSION linux-x64 node-vNN" through console.log.
  cli.globalCommand.outputVersion = () => ctx.stdout(`${versionLine()}\n`);
  try {
    cli.parse(["bun", PROGRAM, ...shielded], { run: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (cli.options.help || cli.options.version) return ExitCode.ok;
  try {
    await cli.runMatchedCommand();
  } catch (err) {
    if ((err as Error)?.name === "CACError") throw new UsageError((err as Error).message);
    throw err;
  }
  return result ?? ExitCode.ok;
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  let firstSignalAt = 0;
  let intercept: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (intercept) return intercept(signal);
    interrupts++;
    // A second signal stops at once; but one arriving within a second of the
    // first is a duplicate: under `dsbackup snapshot` a Ctrl-C reaches us both
    // from the terminal and forwarded by the snapshot tool.
    if (interrupts > 1 && Date.now() - firstSignalAt > 1000) process.exit(ExitCode.interrupted);
    if (interrupts === 1) firstSignalAt = Date.now();
    controller.abort(new InterruptedError(`interrupted by ${signal}; nothing was committed`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const ctx: CommandContext = {
    env: process.env,
    now: () => new Date(),
    signal: controller.signal,
    log: (m) => process.stderr.write(`${m}\n`),
    warn: (m) => process.stderr.write(`${PROGRAM}: warning: ${m}\n`),
    stdout: (t) => process.stdout.write(t),
    writeStderr: (t) => process.stderr.write(t),
    isTerminal: Boolean(process.stderr.isTTY),
    stdoutIsTerminal: Boolean(process.stdout.isTTY),
    interceptSignals: (handler) => {
      intercept = handler;
      return () => {
        if (intercept === handler) intercept = undefined;
      };
    },
  };
  try {
    return await run(argv, ctx);
  } catch (err) {
    // A signal's own message replaces only errors the abort caused; a real
    // failure (say, an fsync error after the index line was written) is
    // reported as itself, with what it says was committed.
    const causedByAbort = controller.signal.aborted && (err instanceof InterruptedError || !(err instanceof DsError));
    return reportError(causedByAbort ? (controller.signal.reason as Error) : err);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** The single mapping from an error to stderr and an exit status. */
export function reportError(err: unknown): number {
  // One line, and no control characters from hostile input (terminal escapes, carriage returns).
  const oneLine = (s: string) =>
    s
      .replace(/\s*\n\s*/g, " ")
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
      .trim();
  if (err instanceof DsError) {
    process.stderr.write(`${PROGRAM}: ${oneLine(err.message)}\n`);
    return err.exitCode;
  }
  if (err instanceof InvalidDateError) {
    process.stderr.write(`${PROGRAM}: ${oneLine(err.message)}\n`);
    return ExitCode.failure; // as GNU date does
  }
  if (err instanceof DateUsageError) {
    process.stderr.write(`${PROGRAM}: date: ${oneLine(err.message)}\n`);
    return ExitCode.usage;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${PROGRAM}: internal error: ${oneLine(message)}\n`);
  if (process.env.DSBACKUP_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return ExitCode.failure;
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
