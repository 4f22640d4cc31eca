// `dsbackup snapshot --storage DIR [-v] [-q] [-t SECONDS] [-s SECONDS]
// [--snapshot-conf FILE] [--] COMMAND [ARGS...]`, and the old form
// `dsbackup snapshot DIRECTORY CONF COMMAND...`. Options are parsed here, in
// getopt's way (they stop at the first word that is not one), so COMMAND's
// own arguments are never touched.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { runUnderSnapshot } from "../snapshot/run-command.ts";
import { resolveHome, type SnapshotEnvironment } from "../snapshot/session.ts";
import { openStorage } from "../storage/home.ts";
import type { CommandContext } from "./context.ts";
import { commandHelp } from "../command-line/help.ts";
import { commandSpec } from "../command-line/spec.ts";

export const SNAPSHOT_USAGE = commandHelp(commandSpec("snapshot"));

interface SnapshotArgs {
  storage?: string;
  conf?: string;
  verbosity: number;
  retrySeconds: number;
  sleepSeconds: number;
  help: boolean;
  rest: string[];
}

const LONG = ["storage", "snapshot-conf", "help"] as const;

function longName(name: string): (typeof LONG)[number] {
  const exact = LONG.find((o) => o === name);
  if (exact) return exact;
  const hits = LONG.filter((o) => o.startsWith(name));
  if (hits.length === 1) return hits[0]!;
  throw new UsageError(`snapshot: ${hits.length ? "ambiguous" : "unknown"} option --${name}`);
}

/** A single-valued option given twice is a usage error, never a silent override. */
function once(previous: string | undefined, option: string, value: string): string {
  if (previous !== undefined) throw new UsageError(`snapshot: ${option} is given more than once: give one value`);
  return value;
}

function seconds(value: string, option: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`snapshot: ${option} takes whole seconds, not ${JSON.stringify(value)}`);
  return Number(value);
}

export function parseSnapshotArgs(argv: string[]): SnapshotArgs {
  const out: SnapshotArgs = { verbosity: 0, retrySeconds: 0, sleepSeconds: 10, help: false, rest: [] };
  const given = new Set<string>();
  let i = 0;
  const valueFor = (option: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i + 1 >= argv.length) throw new UsageError(`snapshot: ${option} needs a value`);
    return argv[++i]!;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = longName(eq < 0 ? arg.slice(2) : arg.slice(2, eq));
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (name === "help") out.help = true;
      else if (name === "storage") out.storage = once(out.storage, "--storage", valueFor("--storage", inline));
      else out.conf = once(out.conf, "--snapshot-conf", valueFor("--snapshot-conf", inline));
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    for (let k = 1; k < arg.length; k++) {
      const o = arg[k]!;
      if (o === "v") out.verbosity++;
      else if (o === "q") out.verbosity--;
      else if (o === "h") out.help = true;
      else if (o === "t" || o === "s") {
        const value = seconds(valueFor(`-${o}`, arg.slice(k + 1) || undefined), `-${o}`);
        if (given.has(o)) throw new UsageError(`snapshot: -${o} is given more than once: give one SECONDS`);
        given.add(o);
        if (o === "t") out.retrySeconds = value;
        else out.sleepSeconds = value;
        break;
      } else throw new UsageError(`snapshot: unknown option -${o}`);
    }
  }
  out.rest = argv.slice(i);
  return out;
}

export async function snapshotCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const args = parseSnapshotArgs(argv);
  if (args.help) {
    ctx.stdout(SNAPSHOT_USAGE);
    return 0;
  }
  let storage = args.storage;
  let conf = args.conf;
  let command = args.rest;
  if (storage === undefined && ctx.env.SNAPSHOT_VERSION === undefined) {
    // The pre-1.1.10 form: DIRECTORY CONF COMMAND...
    if (command.length < 3) throw new UsageError("snapshot: --storage DIR and a COMMAND are required (see dsbackup snapshot --help)");
    [storage, conf] = [command[0]!, command[1]!];
    command = command.slice(2);
  }
  if (command.length === 0) throw new UsageError("snapshot: a COMMAND to run is required (see dsbackup snapshot --help)");
  const home = resolveHome(storage, ctx.env as SnapshotEnvironment);
  const { format } = openStorage(home, { requireFull: false });
  // A mistyped --snapshot-conf must not silently fall back to direct access.
  if (conf !== undefined && conf !== "-" && !existsSync(conf)) throw new UsageError(`snapshot: --snapshot-conf ${conf}: no such file`);
  const level = args.verbosity;
  return runUnderSnapshot({
    home,
    format,
    env: ctx.env,
    command,
    confPath: conf === undefined || conf === "-" ? undefined : resolve(conf),
    retrySeconds: args.retrySeconds,
    sleepSeconds: args.sleepSeconds,
    nowMs: () => ctx.now().getTime(),
    signal: ctx.signal,
    interceptSignals: ctx.interceptSignals,
    log: level >= 0 ? ctx.log : () => {},
    detail: level >= 1 ? ctx.log : () => {},
    warn: ctx.warn,
  });
}
