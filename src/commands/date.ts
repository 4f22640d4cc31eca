// `dsbackup date`: a portable stand-in for GNU `date`, so operators can check
// what a WHEN string means on machines without GNU coreutils.
// Arguments are parsed by hand: `-d "-1 day"` and `-Iseconds` must work.
import { formatTime } from "../time/format.ts";
import { commandHelp } from "../command-line/help.ts";
import { commandSpec } from "../command-line/spec.ts";
import { InvalidDateError, type TimeSpec } from "../time/parse.ts";
import { readTime } from "../time/when.ts";

export class DateUsageError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "DateUsageError";
  }
}

export interface DateIo {
  stdout: (s: string) => void;
  now?: Date;
  env?: Record<string, string | undefined>;
  /** Trap warnings ("a day ago" means 25 hours ago in GNU date ...); the value printed stays GNU's. */
  warn?: (message: string) => void;
}

const DEFAULT_FORMAT = "%a %b %e %H:%M:%S %Z %Y";
const RFC_EMAIL_FORMAT = "%a, %d %b %Y %H:%M:%S %z";
const ISO_FORMATS: Record<string, string> = {
  date: "%Y-%m-%d",
  hours: "%Y-%m-%dT%H%:z",
  minutes: "%Y-%m-%dT%H:%M%:z",
  seconds: "%Y-%m-%dT%H:%M:%S%:z",
  ns: "%Y-%m-%dT%H:%M:%S,%N%:z",
};
const RFC3339_FORMATS: Record<string, string> = {
  date: "%Y-%m-%d",
  seconds: "%Y-%m-%d %H:%M:%S%:z",
  ns: "%Y-%m-%d %H:%M:%S.%N%:z",
};

/** GNU accepts any unambiguous prefix of an argument keyword ("sec" for "seconds"). */
function keyword(value: string, table: Record<string, string>, option: string): string {
  const hits = Object.keys(table).filter((k) => k.startsWith(value));
  const exact = hits.find((k) => k === value);
  if (exact) return table[exact]!;
  if (hits.length !== 1) throw new DateUsageError(`invalid argument '${value}' for '${option}'`);
  return table[hits[0]!]!;
}

/** Long options may be abbreviated, as with getopt_long. */
const LONG_OPTIONS = ["date", "utc", "universal", "iso-8601", "rfc-email", "rfc-3339"] as const;
function longOption(name: string): (typeof LONG_OPTIONS)[number] {
  const hits = LONG_OPTIONS.filter((o) => o.startsWith(name));
  const exact = hits.find((o) => o === name);
  if (exact) return exact;
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1 && hits.every((h) => h === "utc" || h === "universal")) return "utc";
  throw new DateUsageError(hits.length ? `option '--${name}' is ambiguous` : `unrecognized option '--${name}'`);
}

export const DATE_USAGE = commandHelp(commandSpec("date"));

export async function runDate(argv: string[], io: DateIo): Promise<number> {
  if (argv.includes("--help") && !argv.slice(0, argv.indexOf("--help")).includes("--")) {
    io.stdout(DATE_USAGE);
    return 0;
  }
  let dateString: string | undefined;
  let utc = false;
  let format: string | undefined;
  let formatSource: string | undefined;
  const setFormat = (f: string, source: string) => {
    if (format !== undefined && formatSource !== source) throw new DateUsageError("multiple output formats specified");
    format = f;
    formatSource = source;
  };

  let operandsOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!operandsOnly && arg === "--") {
      operandsOnly = true;
    } else if (!operandsOnly && arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = longOption(eq < 0 ? arg.slice(2) : arg.slice(2, eq));
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      switch (name) {
        case "date":
          if (inline !== undefined) dateString = inline;
          else if (i + 1 < argv.length) dateString = argv[++i];
          else throw new DateUsageError("option '--date' requires an argument");
          break;
        case "utc":
        case "universal":
          if (inline !== undefined) throw new DateUsageError(`option '--${name}' doesn't allow an argument`);
          utc = true;
          break;
        case "iso-8601":
          setFormat(keyword(inline ?? "date", ISO_FORMATS, "--iso-8601"), "iso");
          break;
        case "rfc-3339":
          {
            // A required argument, attached (=FMT) or as the next word, as getopt_long reads it.
            const value = inline ?? (i + 1 < argv.length ? argv[++i] : undefined);
            if (value === undefined) throw new DateUsageError("option '--rfc-3339' requires an argument");
            setFormat(keyword(value, RFC3339_FORMATS, "--rfc-3339"), "rfc3339");
          }
          break;
        case "rfc-email":
          if (inline !== undefined) throw new DateUsageError("option '--rfc-email' doesn't allow an argument");
          setFormat(RFC_EMAIL_FORMAT, "rfc-email");
          break;
      }
    } else if (!operandsOnly && arg.startsWith("-") && arg.length > 1) {
      // Clustered short options: -uR, -d STRING, -dSTRING, -I[FMT].
      for (let k = 1; k < arg.length; k++) {
        const o = arg[k]!;
        if (o === "u") utc = true;
        else if (o === "R") setFormat(RFC_EMAIL_FORMAT, "rfc-email");
        else if (o === "I") {
          setFormat(keyword(arg.slice(k + 1) || "date", ISO_FORMATS, "--iso-8601"), "iso");
          break;
        } else if (o === "d") {
          const rest = arg.slice(k + 1);
          if (rest) dateString = rest;
          else if (i + 1 < argv.length) dateString = argv[++i];
          else throw new DateUsageError("option requires an argument -- 'd'");
          break;
        } else throw new DateUsageError(`invalid option -- '${o}'`);
      }
    } else if (arg.startsWith("+")) {
      if (format !== undefined) {
        throw new DateUsageError(formatSource === "plus" ? `extra operand '${arg}'` : "multiple output formats specified");
      }
      format = arg.slice(1);
      formatSource = "plus";
    } else {
      // GNU would try to set the clock; a backup tool never does.
      throw new DateUsageError(`extra operand '${arg}'`);
    }
  }

  const zone = utc ? "UTC0" : (io.env ?? process.env).TZ;
  const nowDate = io.now ?? new Date();
  const nowMs = nowDate.getTime();
  const now: TimeSpec = { sec: Math.floor(nowMs / 1000), nsec: (nowMs - Math.floor(nowMs / 1000) * 1000) * 1_000_000 };
  let when = now;
  if (dateString !== undefined) {
    const r = readTime(dateString, { now, zone });
    for (const trap of r.traps) (io.warn ?? ((m) => process.stderr.write(`dsbackup: warning: ${m}\n`)))(trap.message);
    when = r.spec;
  }
  io.stdout(formatTime(when, format ?? DEFAULT_FORMAT, { zone }) + "\n");
  return 0;
}

export { InvalidDateError };
