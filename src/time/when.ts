// The entry points for time strings. readTime is what `dsbackup date` shows:
// GNU's value for every string GNU accepts, the natural phrases for strings
// it refuses, and the traps found on the way. parseWhen is for the times the
// tool acts on (inc WHEN, restore --at): traps are refused, with advice.
import { UsageError } from "../errors.ts";
import { formatTime } from "./format.ts";
import { naturalToGnu } from "./natural.ts";
import { InvalidDateError, parseGnuDetailed, type ParseOptions, type TimeSpec } from "./parse.ts";
import { suggestSpelling } from "./suggest.ts";
import { findTraps, type TimeTrap } from "./traps.ts";

export interface TimeReading {
  spec: TimeSpec;
  /** The string the GNU grammar evaluated: the input, or the GNU spelling of a natural phrase. */
  gnu: string;
  natural: boolean;
  traps: TimeTrap[];
}

/** A string GNU date reads differently from what it says; exit 2. */
export class TimeTrapError extends UsageError {}

function reading(text: string, natural: boolean, opts: ParseOptions): TimeReading | null {
  const g = parseGnuDetailed(text, opts);
  if (!g) return null;
  return { spec: g.spec, gnu: text, natural, traps: findTraps(text, g.spec, g.notes, opts) };
}

function readNatural(input: string, opts: ParseOptions): TimeReading | null {
  const spelling = naturalToGnu(input);
  return spelling === null ? null : reading(spelling, true, opts);
}

/** GNU grammar first, then the natural phrases; invalid strings throw InvalidDateError with chrono's suggestion. */
export function readTime(input: string, opts: ParseOptions): TimeReading {
  const r = reading(input, false, opts) ?? readNatural(input, opts);
  if (r) return r;
  throw new InvalidDateError(input, suggestSpelling(input, opts));
}

export interface When {
  spec: TimeSpec;
  date: Date;
  /** "resolved to 2026-11-25 12:13:45 CET (2026-11-25 11:13:45 UTC)", for the caller to echo. */
  description: string;
}

/** "a day", "an hour": 1 in WHEN (GNU reads the letter as military zone Alpha). */
const ARTICLE_UNIT = /(^|[\s,])an?\s+(year|month|fortnight|week|day|hour|minute|min|second|sec)\b/i;

/** A time the tool will act on: traps refused (TimeTrapError), invalid strings InvalidDateError. */
export function parseWhen(input: string, opts: ParseOptions): When {
  const r = (ARTICLE_UNIT.test(input) ? readNatural(input, opts) : null) ?? readTime(input, opts);
  if (r.traps.length) throw new TimeTrapError(r.traps[0]!.message);
  const date = new Date(r.spec.sec * 1000 + Math.floor(r.spec.nsec / 1e6));
  if (Number.isNaN(date.getTime())) throw new InvalidDateError(input);
  const shown = (zone: string | undefined) => formatTime(r.spec, "%Y-%m-%d %H:%M:%S %Z", { zone });
  return { spec: r.spec, date, description: `resolved to ${shown(opts.zone)} (${shown("UTC0")})` };
}
