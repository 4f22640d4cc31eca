// A strict re-implementation of GNU `date --date` (gnulib parse-datetime.y).
// The grammar is parsed greedily the way bison's LALR(1) tables do (always
// shift on conflicts), so strings GNU rejects are rejected here too; the
// evaluation transcribes parse_datetime_body() step by step.
import { fixedOffsetZone, localtime, mktime, resolveZone, type LocalTime, type TimeZone } from "./zone.ts";

/** GNU's wording: invalid date 'INPUT', with a suggested spelling when one is known. */
export class InvalidDateError extends SyntaxError {
  constructor(
    readonly input: string,
    /** A sentence such as `did you mean "2026-12-04 17:00" (Friday)? write it that way to use it`. */
    readonly suggestion?: string,
  ) {
    super(`invalid date '${input}'${suggestion ? `; ${suggestion}` : ""}`);
    this.name = "InvalidDateError";
  }
}

/** An instant with nanosecond precision (Date only keeps milliseconds). */
export interface TimeSpec {
  sec: number;
  nsec: number;
}

export interface ParseOptions {
  now: Date | TimeSpec;
  zone?: string;
}

/** Longest input we look at; GNU has no limit, but nothing sane is longer. */
export const MAX_INPUT_LENGTH = 1000;
const BILLION = 1_000_000_000;
const HOUR = 3600;

export function parseTime(input: string, opts: ParseOptions): Date {
  const ts = parseTimeSpec(input, opts);
  const ms = ts.sec * 1000 + Math.floor(ts.nsec / 1_000_000);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new InvalidDateError(input);
  return d;
}

export function parseTimeSpec(input: string, opts: ParseOptions): TimeSpec {
  const r = parseGnuDetailed(input, opts);
  if (!r) throw new InvalidDateError(input);
  return r.spec;
}

/** The GNU grammar alone (with the epoch rule): the instant and what the parse used, or null. */
export function parseGnuDetailed(input: string, opts: ParseOptions): { spec: TimeSpec; notes: GnuNotes } | null {
  const notes: GnuNotes = { letterZones: [], relItems: [], onlyRelative: false };
  // The backup tool's own rule, before anything GNU: a bare integer is epoch seconds.
  const bare = /^\s*([+-]?\d{1,15})\s*$/.exec(input);
  if (bare) return { spec: { sec: Number(bare[1]), nsec: 0 }, notes };
  if (!acceptableText(input)) return null;
  const spec = parseGnu(input, toTimeSpec(opts.now), resolveZone(opts.zone), notes);
  return spec ? { spec, notes } : null;
}

/** Empty, overlong, NUL-containing (C would truncate) or non-ASCII input is refused outright. */
export function acceptableText(input: string): boolean {
  return input.trim() !== "" && input.length <= MAX_INPUT_LENGTH && !/[^\x01-\x7f]/.test(input);
}

/** A Date (millisecond resolution) as seconds and nanoseconds; a TimeSpec as it is. */
export function toTimeSpec(now: Date | TimeSpec): TimeSpec {
  if (now instanceof Date) {
    const ms = now.getTime();
    const sec = Math.floor(ms / 1000);
    return { sec, nsec: (ms - sec * 1000) * 1_000_000 };
  }
  return now;
}

// ---------------------------------------------------------------- lexer

type Kind =
  | "NUM" | "SNUM" | "UDEC" | "SDEC"
  | "MONTH" | "DAY" | "DAY_UNIT" | "HOUR_UNIT" | "MINUTE_UNIT" | "SEC_UNIT" | "MONTH_UNIT" | "YEAR_UNIT"
  | "DAY_SHIFT" | "ORDINAL" | "AGO" | "MERIDIAN" | "ZONE" | "DAYZONE" | "LOCAL_ZONE" | "DST"
  | "T" | "J" | "CHAR" | "ERR" | "EOF";

interface Token {
  kind: Kind;
  value: number; // word value, or integer value
  digits: number; // NUM/SNUM: digit count
  negative: boolean;
  ns: number; // UDEC/SDEC fraction
  char: string; // CHAR, or the letter of a one-letter word
  start: number; // source span, for trap advice
  end: number;
}

const UNIT_KINDS: ReadonlySet<Kind> = new Set(["YEAR_UNIT", "MONTH_UNIT", "DAY_UNIT", "HOUR_UNIT", "MINUTE_UNIT", "SEC_UNIT"]);

type Word = [Kind, number];
const MERIDIANS: Record<string, Word> = { AM: ["MERIDIAN", 0], "A.M.": ["MERIDIAN", 0], PM: ["MERIDIAN", 1], "P.M.": ["MERIDIAN", 1] };
const MONTHS_AND_DAYS: [string, Kind, number][] = [
  ["JANUARY", "MONTH", 1], ["FEBRUARY", "MONTH", 2], ["MARCH", "MONTH", 3], ["APRIL", "MONTH", 4],
  ["MAY", "MONTH", 5], ["JUNE", "MONTH", 6], ["JULY", "MONTH", 7], ["AUGUST", "MONTH", 8],
  ["SEPTEMBER", "MONTH", 9], ["SEPT", "MONTH", 9], ["OCTOBER", "MONTH", 10], ["NOVEMBER", "MONTH", 11],
  ["DECEMBER", "MONTH", 12], ["SUNDAY", "DAY", 0], ["MONDAY", "DAY", 1], ["TUESDAY", "DAY", 2],
  ["TUES", "DAY", 2], ["WEDNESDAY", "DAY", 3], ["WEDNES", "DAY", 3], ["THURSDAY", "DAY", 4],
  ["THUR", "DAY", 4], ["THURS", "DAY", 4], ["FRIDAY", "DAY", 5], ["SATURDAY", "DAY", 6],
];
const TIME_UNITS: Record<string, Word> = {
  YEAR: ["YEAR_UNIT", 1], MONTH: ["MONTH_UNIT", 1], FORTNIGHT: ["DAY_UNIT", 14], WEEK: ["DAY_UNIT", 7],
  DAY: ["DAY_UNIT", 1], HOUR: ["HOUR_UNIT", 1], MINUTE: ["MINUTE_UNIT", 1], MIN: ["MINUTE_UNIT", 1],
  SECOND: ["SEC_UNIT", 1], SEC: ["SEC_UNIT", 1],
};
const RELATIVE_WORDS: Record<string, Word> = {
  TOMORROW: ["DAY_SHIFT", 1], YESTERDAY: ["DAY_SHIFT", -1], TODAY: ["DAY_SHIFT", 0], NOW: ["DAY_SHIFT", 0],
  LAST: ["ORDINAL", -1], THIS: ["ORDINAL", 0], NEXT: ["ORDINAL", 1], FIRST: ["ORDINAL", 1],
  THIRD: ["ORDINAL", 3], FOURTH: ["ORDINAL", 4], FIFTH: ["ORDINAL", 5], SIXTH: ["ORDINAL", 6],
  SEVENTH: ["ORDINAL", 7], EIGHTH: ["ORDINAL", 8], NINTH: ["ORDINAL", 9], TENTH: ["ORDINAL", 10],
  ELEVENTH: ["ORDINAL", 11], TWELFTH: ["ORDINAL", 12], AGO: ["AGO", -1], HENCE: ["AGO", 1],
};
const UNIVERSAL_ZONES: Record<string, Word> = { GMT: ["ZONE", 0], UT: ["ZONE", 0], UTC: ["ZONE", 0] };
const h = (n: number) => n * HOUR;
/** GNU's fixed table; abbreviations are ambiguous, so numeric offsets are safer. */
const ZONE_TABLE: Record<string, Word> = {
  WET: ["ZONE", 0], WEST: ["DAYZONE", 0], BST: ["DAYZONE", 0], ART: ["ZONE", h(-3)], BRT: ["ZONE", h(-3)],
  BRST: ["DAYZONE", h(-3)], NST: ["ZONE", -(h(3) + 1800)], NDT: ["DAYZONE", -(h(3) + 1800)],
  AST: ["ZONE", h(-4)], ADT: ["DAYZONE", h(-4)], CLT: ["ZONE", h(-4)], CLST: ["DAYZONE", h(-4)],
  EST: ["ZONE", h(-5)], EDT: ["DAYZONE", h(-5)], CST: ["ZONE", h(-6)], CDT: ["DAYZONE", h(-6)],
  MST: ["ZONE", h(-7)], MDT: ["DAYZONE", h(-7)], PST: ["ZONE", h(-8)], PDT: ["DAYZONE", h(-8)],
  AKST: ["ZONE", h(-9)], AKDT: ["DAYZONE", h(-9)], HST: ["ZONE", h(-10)], HAST: ["ZONE", h(-10)],
  HADT: ["DAYZONE", h(-10)], SST: ["ZONE", h(-12)], WAT: ["ZONE", h(1)], CET: ["ZONE", h(1)],
  CEST: ["DAYZONE", h(1)], MET: ["ZONE", h(1)], MEZ: ["ZONE", h(1)], MEST: ["DAYZONE", h(1)],
  MESZ: ["DAYZONE", h(1)], EET: ["ZONE", h(2)], EEST: ["DAYZONE", h(2)], CAT: ["ZONE", h(2)],
  SAST: ["ZONE", h(2)], EAT: ["ZONE", h(3)], MSK: ["ZONE", h(3)], MSD: ["DAYZONE", h(3)],
  IST: ["ZONE", h(5) + 1800], SGT: ["ZONE", h(8)], KST: ["ZONE", h(9)], JST: ["ZONE", h(9)],
  GST: ["ZONE", h(10)], NZST: ["ZONE", h(12)], NZDT: ["DAYZONE", h(12)],
};
/** RFC 5322 military zones (the correct sign); J is local time and T the ISO separator. */
function militaryZone(letter: string): Word | undefined {
  if (letter === "J") return ["J", 0];
  if (letter === "T") return ["T", 0];
  if (letter === "Z") return ["ZONE", 0];
  const c = letter.charCodeAt(0) - 64; // A = 1
  if (c >= 1 && c <= 9) return ["ZONE", h(c)];
  if (c >= 11 && c <= 13) return ["ZONE", h(c - 1)];
  if (c >= 14 && c <= 25) return ["ZONE", h(-(c - 13))];
  return undefined;
}

interface LocalZoneName {
  name: string;
  isdst: number; // -1 when standard and DST share the name
}

function lookupZone(word: string, local: LocalZoneName[]): Word | undefined {
  const u = UNIVERSAL_ZONES[word];
  if (u) return u;
  const l = local.find((z) => z.name === word);
  if (l) return ["LOCAL_ZONE", l.isdst];
  return ZONE_TABLE[word];
}

function lookupWord(raw: string, local: LocalZoneName[]): Word | undefined {
  const word = raw.toUpperCase();
  const m = MERIDIANS[word];
  if (m) return m;
  const abbrev = word.length === 3 || (word.length === 4 && word[3] === ".");
  for (const [name, kind, value] of MONTHS_AND_DAYS) {
    if (abbrev ? name.startsWith(word.slice(0, 3)) : name === word) return [kind, value];
  }
  const zone = lookupZone(word, local);
  if (zone) return zone;
  if (word === "DST") return ["DST", 0];
  const unit = TIME_UNITS[word];
  if (unit) return unit;
  if (word.endsWith("S")) {
    const singular = TIME_UNITS[word.slice(0, -1)];
    if (singular) return singular;
  }
  const rel = RELATIVE_WORDS[word];
  if (rel) return rel;
  if (word.length === 1) {
    const mil = militaryZone(word);
    if (mil) return mil;
  }
  if (word.includes(".")) return lookupZone(word.replaceAll(".", ""), local);
  return undefined;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isAlpha = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/.test(c);
const isSpace = (c: string | undefined) => c !== undefined && /^[ \t\n\v\f\r]$/.test(c);
/** Integers beyond this lose precision in a double; GNU would overflow later anyway. */
const MAX_DIGITS = 15;

function tok(kind: Kind, value = 0, extra: Partial<Token> = {}): Token {
  return { kind, value, digits: 0, negative: false, ns: 0, char: "", start: 0, end: 0, ...extra };
}

function lex(s: string, local: LocalZoneName[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (true) {
    while (isSpace(s[i])) i++;
    const c = s[i];
    if (c === undefined) break;
    const from = i;
    if (isDigit(c) || c === "-" || c === "+") {
      let sign = 0;
      if (c === "-" || c === "+") {
        sign = c === "-" ? -1 : 1;
        i++;
        while (isSpace(s[i])) i++;
        if (!isDigit(s[i])) continue; // GNU silently skips a sign not followed by digits
      }
      const start = i;
      while (isDigit(s[i])) i++;
      const digits = i - start;
      if (digits > MAX_DIGITS) return [...out, tok("ERR")];
      const magnitude = Number(s.slice(start, i));
      if ((s[i] === "." || s[i] === ",") && isDigit(s[i + 1])) {
        i++;
        const fracStart = i;
        while (isDigit(s[i])) i++;
        const frac = s.slice(fracStart, i);
        let ns = Number(frac.slice(0, 9).padEnd(9, "0"));
        // Truncate toward -infinity for negative numbers, like GNU.
        if (sign < 0 && /[1-9]/.test(frac.slice(9))) ns++;
        let sec = sign < 0 ? -magnitude : magnitude;
        if (sign < 0 && ns) {
          sec -= 1;
          ns = BILLION - ns;
        }
        out.push(tok(sign ? "SDEC" : "UDEC", sec, { ns, start: from, end: i }));
      } else {
        out.push(tok(sign ? "SNUM" : "NUM", sign < 0 ? -magnitude : magnitude, { digits, negative: sign < 0, start: from, end: i }));
      }
      continue;
    }
    if (isAlpha(c)) {
      const start = i;
      while (isAlpha(s[i]) || s[i] === ".") i++;
      // GNU copies at most 19 characters of a word into its buffer.
      const word = lookupWord(s.slice(start, i).slice(0, 19), local);
      if (!word) return [...out, tok("ERR")];
      out.push(tok(word[0], word[1], { start, end: i, char: i - start === 1 ? s[start]!.toUpperCase() : "" }));
      continue;
    }
    if (c === "(") {
      // Parenthesised comments may nest; an unterminated one ends the input.
      let depth = 0;
      do {
        const d = s[i++];
        if (d === undefined) return out;
        if (d === "(") depth++;
        else if (d === ")") depth--;
      } while (depth !== 0);
      continue;
    }
    out.push(tok("CHAR", 0, { char: c, start: i, end: i + 1 }));
    i++;
  }
  return out;
}

// ---------------------------------------------------------------- parser

interface RelativeTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minutes: number;
  seconds: number;
  ns: number;
}

interface ParserState {
  year: { value: number; digits: number };
  month: number;
  day: number;
  hour: number;
  minutes: number;
  seconds: TimeSpec;
  meridian: "24" | "am" | "pm";
  timeZone: number;
  localIsdst: number;
  dayOrdinal: number;
  dayNumber: number;
  rel: RelativeTime;
  timespecSeen: boolean;
  relsSeen: boolean;
  datesSeen: number;
  daysSeen: number;
  timesSeen: number;
  localZonesSeen: number;
  dstsSeen: number;
  zonesSeen: number;
  jZonesSeen: number;
}

class Abort extends Error {}

/** What a successful GNU parse used, for the trap guards (src/time/traps.ts). Spans index the input. */
export interface GnuNotes {
  /** One-letter military zones used as a zone ('Z' excepted: it means UTC everywhere). */
  letterZones: { letter: string; offset: number; start: number; end: number; glued: boolean }[];
  /** Relative items (N unit [ago]) in order; `next` is the token index after the item. */
  relItems: { start: number; end: number; ago: boolean; signed: boolean; unit: Kind; unitValue: number; n: number; first: number; next: number }[];
  /** Relative items and no date, time or weekday: the result is "now" shifted. */
  onlyRelative: boolean;
}

function unitRelative(unit: Token, n: number, ns = 0): RelativeTime {
  const r: RelativeTime = { year: 0, month: 0, day: 0, hour: 0, minutes: 0, seconds: 0, ns: 0 };
  switch (unit.kind) {
    case "YEAR_UNIT": r.year = n; break;
    case "MONTH_UNIT": r.month = n; break;
    case "DAY_UNIT": r.day = n * unit.value; break;
    case "HOUR_UNIT": r.hour = n; break;
    case "MINUTE_UNIT": r.minutes = n; break;
    case "SEC_UNIT": r.seconds = n; r.ns = ns; break;
  }
  return r;
}

function applyRelative(pc: ParserState, r: RelativeTime, factor: number): void {
  for (const k of ["year", "month", "day", "hour", "minutes", "seconds", "ns"] as const) {
    pc.rel[k] += factor * r[k];
    if (!Number.isSafeInteger(pc.rel[k])) throw new Abort();
  }
  pc.relsSeen = true;
}

function setHhmmss(pc: ParserState, hour: number, minutes: number, sec: number, ns: number): void {
  pc.hour = hour;
  pc.minutes = minutes;
  pc.seconds = { sec, nsec: ns };
}

function timeZoneHhmm(pc: ParserState, s: Token, mm: number): void {
  let value = s.value;
  if (s.digits <= 2 && mm < 0) value *= 100;
  const minutes = mm < 0 ? Math.trunc(value / 100) * 60 + (value % 100) : value * 60 + (s.negative ? -mm : mm);
  if (!(-24 * 60 <= minutes && minutes <= 24 * 60)) throw new Abort();
  pc.timeZone = minutes * 60;
}

/** Year in the date `number` rule, or a date (YYYYMMDD) or time (HHMM). */
function digitsToDateTime(pc: ParserState, n: Token): void {
  if (pc.datesSeen && !pc.year.digits && !pc.relsSeen && (pc.timesSeen || 2 < n.digits)) {
    pc.year = { value: n.value, digits: n.digits };
  } else if (4 < n.digits) {
    pc.datesSeen++;
    pc.day = n.value % 100;
    pc.month = Math.floor(n.value / 100) % 100;
    pc.year = { value: Math.floor(n.value / 10000), digits: n.digits - 4 };
  } else {
    pc.timesSeen++;
    if (n.digits <= 2) {
      pc.hour = n.value;
      pc.minutes = 0;
    } else {
      pc.hour = Math.floor(n.value / 100);
      pc.minutes = n.value % 100;
    }
    pc.seconds = { sec: 0, nsec: 0 };
    pc.meridian = "24";
  }
}

/** Parse the item sequence; returns false on a syntax error. Throws Abort on YYABORT. */
function parseItems(toks: Token[], pc: ParserState, notes: GnuNotes): boolean {
  let i = 0;
  const at = (k: number): Token => toks[k] ?? tok("EOF");
  const is = (k: number, kind: Kind) => at(k).kind === kind;
  const isChar = (k: number, c: string) => at(k).kind === "CHAR" && at(k).char === c;
  const isUnit = (k: number) => UNIT_KINDS.has(at(k).kind);

  // '@' seconds is a whole specification on its own.
  if (isChar(0, "@")) {
    const n = at(1);
    if (toks.length !== 2) return false;
    if (n.kind === "NUM" || n.kind === "SNUM") pc.seconds = { sec: n.value, nsec: 0 };
    else if (n.kind === "UDEC" || n.kind === "SDEC") pc.seconds = { sec: n.value, nsec: n.ns };
    else return false;
    pc.timespecSeen = true;
    return true;
  }

  /** zone_offset at k (an SNUM): consumes o_colon_minutes. Returns next index. */
  const zoneOffset = (k: number): number => {
    let mm = -1;
    let next = k + 1;
    if (isChar(next, ":")) {
      if (!is(next + 1, "NUM")) throw new Abort(); // syntax error inside the offset
      mm = at(next + 1).value;
      next += 2;
    }
    pc.zonesSeen++;
    timeZoneHhmm(pc, at(k), mm);
    return next;
  };

  /** Clock time starting with NUM ':' at k. iso=true forbids am/pm (after 'T'). Returns next index or -1. */
  const clockTime = (k: number, iso: boolean): number => {
    if (!is(k + 2, "NUM")) return -1;
    const hh = at(k).value;
    const mm = at(k + 2).value;
    let next = k + 3;
    let sec = 0;
    let ns = 0;
    if (isChar(next, ":")) {
      const s = at(next + 1);
      if (s.kind === "NUM") sec = s.value;
      else if (s.kind === "UDEC") { sec = s.value; ns = s.ns; }
      else return -1;
      next += 2;
    }
    setHhmmss(pc, hh, mm, sec, ns);
    if (!iso && is(next, "MERIDIAN")) {
      pc.meridian = at(next).value ? "pm" : "am";
      return next + 1;
    }
    pc.meridian = "24";
    if (is(next, "SNUM")) return zoneOffset(next);
    return next;
  };

  /** iso_8601_time after 'T': NUM zone_offset | NUM ':' NUM ... */
  const isoTime = (k: number): number => {
    if (!is(k, "NUM")) return -1;
    if (isChar(k + 1, ":")) return clockTime(k, true);
    if (is(k + 1, "SNUM")) {
      setHhmmss(pc, at(k).value, 0, 0, 0);
      pc.meridian = "24";
      return zoneOffset(k + 1);
    }
    return -1;
  };

  const withAgo = (first: number, k: number, unit: Token, n: number, ns = 0): number => {
    const r = unitRelative(unit, n, ns);
    const ago = is(k, "AGO") && at(k).value < 0;
    const next = is(k, "AGO") ? k + 1 : k;
    applyRelative(pc, r, is(k, "AGO") ? at(k).value : 1);
    const signed = at(first).kind === "SNUM" || at(first).kind === "SDEC";
    notes.relItems.push({ start: at(first).start, end: at(next - 1).end, ago, signed, unit: unit.kind, unitValue: unit.value, n, first, next });
    return next;
  };

  while (i < toks.length) {
    const t = at(i);
    switch (t.kind) {
      case "NUM": {
        const n1 = at(i + 1);
        if (n1.kind === "SNUM") {
          const n2 = at(i + 2);
          if (n2.kind === "SNUM") {
            // ISO 8601 date YYYY-MM-DD, possibly followed by 'T' time.
            pc.year = { value: t.value, digits: t.digits };
            pc.month = -n1.value;
            pc.day = -n2.value;
            if (is(i + 3, "T")) {
              const next = isoTime(i + 4);
              if (next < 0) return false;
              pc.timesSeen++;
              pc.datesSeen++;
              i = next;
            } else {
              pc.datesSeen++;
              i += 3;
            }
          } else if (UNIT_KINDS.has(n2.kind)) {
            // Hybrid: YYYYMMDD +N unit.
            digitsToDateTime(pc, t);
            applyRelative(pc, unitRelative(n2, n1.value), 1);
            i += 3;
          } else {
            setHhmmss(pc, t.value, 0, 0, 0);
            pc.meridian = "24";
            pc.timesSeen++;
            i = zoneOffset(i + 1);
          }
        } else if (n1.kind === "CHAR" && n1.char === ":") {
          const next = clockTime(i, false);
          if (next < 0) return false;
          pc.timesSeen++;
          i = next;
        } else if (n1.kind === "CHAR" && n1.char === "/") {
          if (!is(i + 2, "NUM")) return false;
          const n2 = at(i + 2);
          if (isChar(i + 3, "/")) {
            if (!is(i + 4, "NUM")) return false;
            const n3 = at(i + 4);
            if (4 <= t.digits) {
              pc.year = { value: t.value, digits: t.digits };
              pc.month = n2.value;
              pc.day = n3.value;
            } else {
              pc.month = t.value;
              pc.day = n2.value;
              pc.year = { value: n3.value, digits: n3.digits };
            }
            i += 5;
          } else {
            pc.month = t.value;
            pc.day = n2.value;
            i += 3;
          }
          pc.datesSeen++;
        } else if (n1.kind === "MONTH") {
          const n2 = at(i + 2);
          pc.day = t.value;
          pc.month = n1.value;
          if (n2.kind === "SNUM") {
            pc.year = { value: -n2.value, digits: n2.digits };
            i += 3;
          } else if (n2.kind === "NUM") {
            pc.year = { value: n2.value, digits: n2.digits };
            i += 3;
          } else i += 2;
          pc.datesSeen++;
        } else if (n1.kind === "DAY") {
          pc.dayOrdinal = t.value;
          pc.dayNumber = n1.value;
          pc.daysSeen++;
          i += 2;
        } else if (UNIT_KINDS.has(n1.kind)) {
          i = withAgo(i, i + 2, n1, t.value);
        } else if (n1.kind === "MERIDIAN") {
          setHhmmss(pc, t.value, 0, 0, 0);
          pc.meridian = n1.value ? "pm" : "am";
          pc.timesSeen++;
          i += 2;
        } else {
          digitsToDateTime(pc, t);
          i += 1;
        }
        break;
      }
      case "SNUM":
        if (!isUnit(i + 1)) return false;
        i = withAgo(i, i + 2, at(i + 1), t.value);
        break;
      case "UDEC":
      case "SDEC":
        if (!is(i + 1, "SEC_UNIT")) return false;
        i = withAgo(i, i + 2, at(i + 1), t.value, t.ns);
        break;
      case "ORDINAL":
        if (is(i + 1, "DAY")) {
          pc.dayOrdinal = t.value;
          pc.dayNumber = at(i + 1).value;
          pc.daysSeen++;
          i += 2;
        } else if (isUnit(i + 1)) {
          i = withAgo(i, i + 2, at(i + 1), t.value);
        } else return false;
        break;
      case "YEAR_UNIT":
      case "MONTH_UNIT":
      case "DAY_UNIT":
      case "HOUR_UNIT":
      case "MINUTE_UNIT":
      case "SEC_UNIT":
        i = withAgo(i, i + 1, t, 1);
        break;
      case "DAY_SHIFT":
        applyRelative(pc, { year: 0, month: 0, day: t.value, hour: 0, minutes: 0, seconds: 0, ns: 0 }, 1);
        i += 1;
        break;
      case "MONTH": {
        const n1 = at(i + 1);
        pc.month = t.value;
        if (n1.kind === "SNUM") {
          // MON-DD-YYYY
          const n2 = at(i + 2);
          if (n2.kind !== "SNUM") return false;
          pc.day = -n1.value;
          pc.year = { value: -n2.value, digits: n2.digits };
          i += 3;
        } else if (n1.kind === "NUM") {
          pc.day = n1.value;
          if (isChar(i + 2, ",")) {
            if (!is(i + 3, "NUM")) return false;
            pc.year = { value: at(i + 3).value, digits: at(i + 3).digits };
            i += 4;
          } else i += 2;
        } else return false;
        pc.datesSeen++;
        break;
      }
      case "DAY":
        pc.dayOrdinal = 0;
        pc.dayNumber = t.value;
        pc.daysSeen++;
        i += isChar(i + 1, ",") ? 2 : 1;
        break;
      case "ZONE":
      case "T": {
        const base = t.kind === "T" ? h(-7) : t.value;
        pc.zonesSeen++;
        if (t.char && t.char !== "Z") {
          const prev = toks[i - 1];
          const after = toks[i + 1];
          const glued = (prev !== undefined && prev.end === t.start && prev.kind !== "CHAR") || (after !== undefined && after.start === t.end && after.kind === "NUM");
          notes.letterZones.push({ letter: t.char, offset: base, start: t.start, end: t.end, glued });
        }
        if (is(i + 1, "SNUM") && isUnit(i + 2)) {
          pc.timeZone = base;
          applyRelative(pc, unitRelative(at(i + 2), at(i + 1).value), 1);
          i += 3;
        } else if (t.kind === "ZONE" && is(i + 1, "SNUM")) {
          let mm = -1;
          let next = i + 2;
          if (isChar(next, ":")) {
            if (!is(next + 1, "NUM")) return false;
            mm = at(next + 1).value;
            next += 2;
          }
          timeZoneHhmm(pc, at(i + 1), mm);
          pc.timeZone += base;
          i = next;
        } else if (t.kind === "ZONE" && is(i + 1, "DST")) {
          pc.timeZone = base + HOUR;
          i += 2;
        } else if (t.kind === "T" && is(i + 1, "SNUM")) {
          return false;
        } else {
          pc.timeZone = base;
          i += 1;
        }
        break;
      }
      case "DAYZONE":
        pc.timeZone = t.value + HOUR;
        pc.zonesSeen++;
        i += 1;
        break;
      case "LOCAL_ZONE":
        pc.localZonesSeen++;
        if (is(i + 1, "DST")) {
          pc.localIsdst = 1;
          pc.dstsSeen++;
          i += 2;
        } else {
          pc.localIsdst = t.value;
          i += 1;
        }
        break;
      default:
        return false; // AGO, MERIDIAN, DST, J, stray characters, unknown words
    }
  }
  return true;
}

// ---------------------------------------------------------------- evaluation

function toTmYear(y: { value: number; digits: number }): number {
  return 0 <= y.value && y.digits === 2 ? y.value + (y.value < 69 ? 2000 : 1900) : y.value;
}

function toHour(hours: number, meridian: ParserState["meridian"]): number {
  if (meridian === "24") return 0 <= hours && hours < 24 ? hours : -1;
  if (meridian === "am") return 0 < hours && hours < 12 ? hours : hours === 12 ? 0 : -1;
  return 0 < hours && hours < 12 ? hours + 12 : hours === 12 ? 12 : -1;
}

/** Strip a leading TZ="..." (with \\ and \" escapes) as GNU does. */
function splitTzPrefix(p: string): { tz?: string; rest: string } {
  if (!p.startsWith('TZ="')) return { rest: p };
  let value = "";
  for (let k = 4; k < p.length; k++) {
    const c = p[k]!;
    if (c === "\\") {
      const n = p[k + 1];
      if (n !== "\\" && n !== '"') return { rest: p };
      value += n;
      k++;
    } else if (c === '"') {
      return { tz: value, rest: p.slice(k + 1).replace(/^[ \t\n\v\f\r]+/, "") };
    } else value += c;
  }
  return { rest: p };
}

interface Fields {
  year: number;
  month0: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function sameFields(a: Fields, b: LocalTime): boolean {
  return a.year === b.year && a.month0 === b.month - 1 && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}

function parseGnu(input: string, now: TimeSpec, defaultZone: TimeZone, notes: GnuNotes): TimeSpec | null {
  let p = input.replace(/^[ \t\n\v\f\r]+/, "");
  let zone = defaultZone;
  const prefix = splitTzPrefix(p);
  if (prefix.tz !== undefined) {
    zone = resolveZone(prefix.tz);
    p = prefix.rest;
  } else if (p.startsWith('TZ="')) {
    return null; // unterminated or badly escaped TZ="..."
  }
  const tmp = localtime(zone, now.sec);

  // Local zone abbreviations (e.g. CET/CEST) carry a DST flag rather than an offset.
  const localNames: LocalZoneName[] = [{ name: tmp.abbr, isdst: tmp.isdst ? 1 : 0 }];
  for (let quarter = 1; quarter <= 3; quarter++) {
    const probe = localtime(zone, now.sec + quarter * 90 * 86400);
    if ((probe.isdst ? 1 : 0) !== localNames[0]!.isdst) {
      localNames.push({ name: probe.abbr, isdst: probe.isdst ? 1 : 0 });
      break;
    }
  }
  if (localNames.length === 2 && localNames[0]!.name === localNames[1]!.name) {
    localNames[0]!.isdst = -1;
    localNames.pop();
  }

  const pc: ParserState = {
    year: { value: tmp.year, digits: 0 },
    month: tmp.month,
    day: tmp.day,
    hour: tmp.hour,
    minutes: tmp.minute,
    seconds: { sec: tmp.second, nsec: now.nsec },
    meridian: "24",
    timeZone: 0,
    localIsdst: -1,
    dayOrdinal: 0,
    dayNumber: 0,
    rel: { year: 0, month: 0, day: 0, hour: 0, minutes: 0, seconds: 0, ns: 0 },
    timespecSeen: false,
    relsSeen: false,
    datesSeen: 0,
    daysSeen: 0,
    timesSeen: 0,
    localZonesSeen: 0,
    dstsSeen: 0,
    zonesSeen: 0,
    jZonesSeen: 0,
  };

  try {
    const toks = lex(p, localNames);
    const base = input.length - p.length; // spans index the input, not the stripped text
    for (const t of toks) {
      t.start += base;
      t.end += base;
    }
    if (toks.some((t) => t.kind === "ERR")) return null;
    // Deliberately stricter than GNU: a string with no date items at all ("+", "()", 'TZ="UTC"') is refused.
    if (toks.length === 0) return null;
    if (!parseItems(toks, pc, notes)) return null;
  } catch (e) {
    if (e instanceof Abort) return null;
    throw e;
  }

  if (pc.timespecSeen) return pc.seconds;
  notes.onlyRelative = pc.relsSeen && !(pc.timesSeen || pc.datesSeen || pc.daysSeen);
  if (1 < (pc.timesSeen | pc.datesSeen | pc.daysSeen | pc.dstsSeen | (pc.jZonesSeen + pc.localZonesSeen + pc.zonesSeen))) {
    return null;
  }

  const tm0: Fields = { year: toTmYear(pc.year), month0: pc.month - 1, day: pc.day, hour: 0, minute: 0, second: 0 };
  if (pc.timesSeen || (pc.relsSeen && !pc.datesSeen && !pc.daysSeen)) {
    tm0.hour = toHour(pc.hour, pc.meridian);
    if (tm0.hour < 0) return null;
    tm0.minute = pc.minutes;
    tm0.second = pc.seconds.sec;
  } else {
    pc.seconds = { sec: pc.seconds.sec, nsec: 0 };
  }
  let isdst = tmp.isdst ? 1 : 0;
  if (pc.datesSeen | pc.daysSeen | pc.timesSeen) isdst = -1;
  if (pc.localZonesSeen) isdst = pc.localIsdst;
  const isdst0 = isdst;

  let guess = 0; // glibc's mktime remembers the last offset; a fresh process starts at 0
  let r = mktime(zone, { ...tm0, isdst }, guess);
  if (!r || !sameFields(tm0, r.tm)) {
    if (!pc.zonesSeen) return null;
    // Retry in the stated fixed offset (gnulib's "XXX" zone) for local-time gaps.
    const repaired = mktime(fixedOffsetZone(pc.timeZone), { ...tm0, isdst }, 0);
    if (!repaired || !sameFields(tm0, repaired.tm)) return null;
    r = { ...repaired, guess: r?.guess ?? guess };
  }
  guess = r.guess;
  let tm = r.tm;
  let start = r.t;

  if (pc.daysSeen && !pc.datesSeen) {
    const ordinal = pc.dayOrdinal - (0 < pc.dayOrdinal && tm.wday !== pc.dayNumber ? 1 : 0);
    const dayincr = ordinal * 7 + ((pc.dayNumber - tm.wday + 7) % 7);
    const next = mktime(zone, { year: tm.year, month0: tm.month - 1, day: tm.day + dayincr, hour: tm.hour, minute: tm.minute, second: tm.second, isdst: -1 }, guess);
    if (!next) return null;
    ({ t: start, tm, guess } = next);
  }

  if (pc.rel.year || pc.rel.month || pc.rel.day) {
    const next = mktime(zone, {
      year: tm.year + pc.rel.year,
      month0: tm.month - 1 + pc.rel.month,
      day: tm.day + pc.rel.day,
      hour: tm0.hour,
      minute: tm0.minute,
      second: tm0.second,
      isdst: isdst0,
    }, guess);
    if (!next) return null;
    ({ t: start, tm, guess } = next);
  }

  if (pc.zonesSeen) start -= pc.timeZone - tm.offset;

  const sumNs = pc.seconds.nsec + pc.rel.ns;
  const normalizedNs = ((sumNs % BILLION) + BILLION) % BILLION;
  const carry = (sumNs - normalizedNs) / BILLION;
  const sec = start + pc.rel.hour * HOUR + pc.rel.minutes * 60 + pc.rel.seconds + carry;
  if (!Number.isSafeInteger(sec)) return null;
  return { sec, nsec: normalizedNs };
}
