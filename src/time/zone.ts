// Time zone arithmetic that mirrors glibc: TZ values are resolved like
// tzset() does (zoneinfo file first, then POSIX TZ string), and mktime()
// reproduces glibc's probing algorithm so gaps/overlaps resolve identically.
import { readFileSync } from "node:fs";

/** One local-time regime: seconds east of UTC, DST flag, abbreviation. */
export interface ZoneRule {
  offset: number;
  isdst: boolean;
  abbr: string;
}

export interface TimeZone {
  readonly name: string;
  ruleAt(epochSec: number): ZoneRule;
}

/** Broken-down local time (like struct tm, but month 1-12, full year). */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  wday: number; // 0 = Sunday
  yday: number; // 0-based
  isdst: boolean;
  offset: number; // seconds east of UTC (tm_gmtoff)
  abbr: string;
}

const DAY = 86400;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day may overflow). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Wall-clock fields -> seconds as if the wall clock were UTC (month may overflow). */
export function wallSeconds(year: number, month0: number, day: number, hour: number, minute: number, second: number): number {
  const y = year + Math.floor(month0 / 12);
  const m = ((month0 % 12) + 12) % 12;
  return (daysFromCivil(y, m + 1, 1) + day - 1) * DAY + hour * 3600 + minute * 60 + second;
}

/** Fields of an instant seen on a clock shifted by `offset` seconds. */
export function splitSeconds(local: number): Omit<LocalTime, "isdst" | "offset" | "abbr"> {
  const days = Math.floor(local / DAY);
  const secs = local - days * DAY;
  const { year, month, day } = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(secs / 3600),
    minute: Math.floor((secs % 3600) / 60),
    second: secs % 60,
    wday: (((days + 4) % 7) + 7) % 7,
    yday: days - daysFromCivil(year, 1, 1),
  };
}

export function localtime(zone: TimeZone, epochSec: number): LocalTime {
  const rule = zone.ruleAt(epochSec);
  return { ...splitSeconds(epochSec + rule.offset), isdst: rule.isdst, offset: rule.offset, abbr: rule.abbr };
}

function wallOf(tm: LocalTime): number {
  return wallSeconds(tm.year, tm.month - 1, tm.day, tm.hour, tm.minute, tm.second);
}

// ---------------------------------------------------------------- POSIX TZ

interface PosixTransitionRule {
  kind: "J" | "N" | "M";
  day: number; // J: 1-365, N: 0-365, M: weekday 0-6
  month: number; // M only
  week: number; // M only, 1-5
  time: number; // seconds after local midnight (may be negative or > 24h)
}

interface PosixTz {
  std: { abbr: string; offset: number };
  dst?: { abbr: string; offset: number; start: PosixTransitionRule; end: PosixTransitionRule };
}

/** Parse a POSIX TZ string such as "EST5EDT,M3.2.0,M11.1.0" or "<+03>-3". Returns null if invalid. */
export function parsePosixTz(spec: string): PosixTz | null {
  let i = 0;
  const name = (): string | null => {
    if (spec[i] === "<") {
      const end = spec.indexOf(">", i);
      if (end < 0) return null;
      const n = spec.slice(i + 1, end);
      if (n.length < 3 || !/^[A-Za-z0-9+-]+$/.test(n)) return null;
      i = end + 1;
      return n;
    }
    const m = /^[A-Za-z]{3,}/.exec(spec.slice(i));
    if (!m) return null;
    i += m[0].length;
    return m[0];
  };
  const hms = (allowSign: boolean, maxHours: number): number | null => {
    const m = /^([+-]?)(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?/.exec(spec.slice(i));
    if (!m || (!allowSign && m[1])) return null;
    const h = Number(m[2]);
    const mi = Number(m[3] ?? 0);
    const s = Number(m[4] ?? 0);
    if (h > maxHours || mi > 59 || s > 59) return null;
    i += m[0].length;
    return (m[1] === "-" ? -1 : 1) * (h * 3600 + mi * 60 + s);
  };
  const rule = (): PosixTransitionRule | null => {
    let r: PosixTransitionRule;
    let m: RegExpExecArray | null;
    const rest = spec.slice(i);
    if ((m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(rest))) {
      r = { kind: "M", month: Number(m[1]), week: Number(m[2]), day: Number(m[3]), time: 7200 };
      if (r.month < 1 || r.month > 12 || r.week < 1 || r.week > 5 || r.day > 6) return null;
    } else if ((m = /^J(\d{1,3})/.exec(rest))) {
      r = { kind: "J", day: Number(m[1]), month: 0, week: 0, time: 7200 };
      if (r.day < 1 || r.day > 365) return null;
    } else if ((m = /^(\d{1,3})/.exec(rest))) {
      r = { kind: "N", day: Number(m[1]), month: 0, week: 0, time: 7200 };
      if (r.day > 365) return null;
    } else return null;
    i += m[0].length;
    if (spec[i] === "/") {
      i++;
      const t = hms(true, 167);
      if (t === null) return null;
      r.time = t;
    }
    return r;
  };

  const stdName = name();
  if (stdName === null) return null;
  const stdOff = hms(true, 24);
  if (stdOff === null) return null;
  const result: PosixTz = { std: { abbr: stdName, offset: 0 - stdOff || 0 } };
  if (i === spec.length) return result;
  const dstName = name();
  if (dstName === null) return null;
  let dstOffset = -stdOff + 3600;
  if (i < spec.length && spec[i] !== ",") {
    const o = hms(true, 24);
    if (o === null) return null;
    dstOffset = -o;
  }
  // Without rules glibc falls back to "posixrules" (US rules); use today's US rules.
  let start: PosixTransitionRule = { kind: "M", month: 3, week: 2, day: 0, time: 7200 };
  let end: PosixTransitionRule = { kind: "M", month: 11, week: 1, day: 0, time: 7200 };
  if (spec[i] === ",") {
    i++;
    const s = rule();
    if (!s || spec[i] !== ",") return null;
    i++;
    const e = rule();
    if (!e) return null;
    start = s;
    end = e;
  }
  if (i !== spec.length) return null;
  result.dst = { abbr: dstName, offset: dstOffset, start, end };
  return result;
}

/** Local (wall) seconds since epoch at which a POSIX rule fires in `year`. */
function ruleWallTime(r: PosixTransitionRule, year: number): number {
  let day: number; // days since epoch
  const jan1 = daysFromCivil(year, 1, 1);
  if (r.kind === "J") {
    day = jan1 + r.day - 1 + (isLeapYear(year) && r.day >= 60 ? 1 : 0);
  } else if (r.kind === "N") {
    day = jan1 + r.day;
  } else {
    const first = daysFromCivil(year, r.month, 1);
    const firstWday = (((first + 4) % 7) + 7) % 7;
    let d = first + ((r.day - firstWday + 7) % 7) + (r.week - 1) * 7;
    const monthLen = daysFromCivil(r.month === 12 ? year + 1 : year, r.month === 12 ? 1 : r.month + 1, 1) - first;
    while (r.week === 5 && d >= first + monthLen) d -= 7;
    day = d;
  }
  return day * DAY + r.time;
}

function posixRuleAt(tz: PosixTz, t: number): ZoneRule {
  const std: ZoneRule = { offset: tz.std.offset, isdst: false, abbr: tz.std.abbr };
  const dstDef = tz.dst;
  if (!dstDef) return std;
  const dst: ZoneRule = { offset: dstDef.offset, isdst: true, abbr: dstDef.abbr };
  // As glibc's __tz_compute: rules of the UTC year; before 1970 they are anchored at 1970-01-01.
  const year = civilFromDays(Math.floor(t / DAY)).year;
  const base = year > 1970 ? 0 : -daysFromCivil(year, 1, 1) * DAY;
  const startAt = ruleWallTime(dstDef.start, year) + base - tz.std.offset;
  const endAt = ruleWallTime(dstDef.end, year) + base - dstDef.offset;
  const isdst = startAt > endAt ? t < endAt || t >= startAt : t >= startAt && t < endAt;
  return isdst ? dst : std;
}

class PosixZone implements TimeZone {
  constructor(readonly name: string, private readonly tz: PosixTz) {}
  ruleAt(t: number): ZoneRule {
    return posixRuleAt(this.tz, t);
  }
}

// ---------------------------------------------------------------- TZif files

class TzifZone implements TimeZone {
  constructor(
    readonly name: string,
    private readonly transitions: number[],
    private readonly transitionTypes: number[],
    private readonly types: ZoneRule[],
    private readonly footer: PosixTz | null,
  ) {}
  ruleAt(t: number): ZoneRule {
    const tr = this.transitions;
    if (tr.length === 0 || t < tr[0]!) {
      if (tr.length === 0 && this.footer) return posixRuleAt(this.footer, t);
      return this.types.find((x) => !x.isdst) ?? this.types[0]!;
    }
    if (t >= tr[tr.length - 1]! && this.footer) return posixRuleAt(this.footer, t);
    let lo = 0;
    let hi = tr.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (tr[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.types[this.transitionTypes[lo]!]!;
  }
}

function parseTzif(name: string, buf: Buffer): TimeZone | null {
  if (buf.length < 44 || buf.toString("latin1", 0, 4) !== "TZif") return null;
  const version = buf[4]!;
  const counts = (at: number) => ({
    isut: buf.readUInt32BE(at + 20),
    isstd: buf.readUInt32BE(at + 24),
    leap: buf.readUInt32BE(at + 28),
    time: buf.readUInt32BE(at + 32),
    type: buf.readUInt32BE(at + 36),
    char: buf.readUInt32BE(at + 40),
  });
  let c = counts(0);
  let pos = 44;
  let timeSize = 4;
  if (version >= 0x32) {
    pos += c.time * 4 + c.time + c.type * 6 + c.char + c.leap * 8 + c.isstd + c.isut;
    c = counts(pos);
    pos += 44;
    timeSize = 8;
  }
  const transitions: number[] = [];
  for (let k = 0; k < c.time; k++) {
    transitions.push(timeSize === 8 ? Number(buf.readBigInt64BE(pos + k * 8)) : buf.readInt32BE(pos + k * 4));
  }
  pos += c.time * timeSize;
  const transitionTypes = [...buf.subarray(pos, pos + c.time)];
  pos += c.time;
  const rawTypes: { offset: number; isdst: boolean; abbrIndex: number }[] = [];
  for (let k = 0; k < c.type; k++) {
    rawTypes.push({ offset: buf.readInt32BE(pos), isdst: buf[pos + 4] !== 0, abbrIndex: buf[pos + 5]! });
    pos += 6;
  }
  const chars = buf.subarray(pos, pos + c.char);
  pos += c.char + c.leap * (timeSize + 4) + c.isstd + c.isut;
  const types = rawTypes.map((r) => {
    const end = chars.indexOf(0, r.abbrIndex);
    return { offset: r.offset, isdst: r.isdst, abbr: chars.toString("latin1", r.abbrIndex, end < 0 ? undefined : end) };
  });
  let footer: PosixTz | null = null;
  if (timeSize === 8 && buf[pos] === 0x0a) {
    const end = buf.indexOf(0x0a, pos + 1);
    if (end > pos + 1) footer = parsePosixTz(buf.toString("latin1", pos + 1, end));
  }
  if (types.length === 0) return null;
  return new TzifZone(name, transitions, transitionTypes, types, footer);
}

// ---------------------------------------------------------------- Intl fallback

/** Used only where no zoneinfo files exist; abbreviations then come from ICU. */
class IntlZone implements TimeZone {
  private readonly offsetFmt: Intl.DateTimeFormat;
  private readonly nameFmt: Intl.DateTimeFormat;
  constructor(readonly name: string) {
    this.offsetFmt = new Intl.DateTimeFormat("en-US", { timeZone: name, timeZoneName: "longOffset" });
    this.nameFmt = new Intl.DateTimeFormat("en-US", { timeZone: name, timeZoneName: "short" });
  }
  private offsetAt(t: number): number {
    const part = this.offsetFmt.formatToParts(new Date(t * 1000)).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
    const m = /GMT([+-])(\d\d):(\d\d)(?::(\d\d))?/.exec(part);
    if (!m) return 0;
    return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0));
  }
  ruleAt(t: number): ZoneRule {
    const offset = this.offsetAt(t);
    const year = civilFromDays(Math.floor((t + offset) / DAY)).year;
    const jan = this.offsetAt(daysFromCivil(year, 1, 1) * DAY);
    const jul = this.offsetAt(daysFromCivil(year, 7, 1) * DAY);
    const isdst = offset > Math.min(jan, jul);
    let abbr = this.nameFmt.formatToParts(new Date(t * 1000)).find((p) => p.type === "timeZoneName")?.value ?? "";
    if (!/^[A-Z]{3,5}$/.test(abbr)) abbr = numericAbbr(offset);
    return { offset, isdst, abbr };
  }
}

/** tzdata style numeric abbreviation: "+03", "+0530". */
export function numericAbbr(offset: number): string {
  const sign = offset < 0 ? "-" : "+";
  const a = Math.abs(offset);
  const h = String(Math.floor(a / 3600)).padStart(2, "0");
  const m = Math.floor((a % 3600) / 60);
  return sign + h + (m ? String(m).padStart(2, "0") : "");
}

// ---------------------------------------------------------------- resolution

export const UTC_ZONE: TimeZone = new PosixZone("UTC0", { std: { abbr: "UTC", offset: 0 } });

/** A zone with a fixed offset (seconds east), like gnulib's "XXX<offset>" TZ strings. */
export function fixedOffsetZone(offset: number, abbr = "XXX"): TimeZone {
  return new PosixZone(`fixed${offset}`, { std: { abbr, offset } });
}

const zoneCache = new Map<string, TimeZone>();

function zoneinfoDirs(): string[] {
  const dirs = ["/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo"];
  const env = process.env.TZDIR;
  return env ? [env, ...dirs] : dirs;
}

function loadZoneFile(name: string): TimeZone | null {
  if (name.includes("..") || name.includes("\0")) return null;
  const paths = name.startsWith("/") ? [name] : zoneinfoDirs().map((d) => `${d}/${name}`);
  for (const p of paths) {
    try {
      const z = parseTzif(name, readFileSync(p));
      if (z) return z;
    } catch {
      // not there: try the next directory
    }
  }
  return null;
}

/**
 * Resolve a TZ value the way glibc's tzset() does. `undefined` means the
 * system zone: process.env.TZ, else /etc/localtime. Never throws: like glibc,
 * an unusable value yields UTC (named after the value's leading letters).
 */
export function resolveZone(tz?: string): TimeZone {
  if (tz === undefined) tz = process.env.TZ;
  const key = tz ?? "\0system";
  const cached = zoneCache.get(key);
  if (cached) return cached;
  const zone = resolveUncached(tz);
  zoneCache.set(key, zone);
  return zone;
}

function resolveUncached(tz: string | undefined): TimeZone {
  if (tz === undefined) return loadZoneFile("/etc/localtime") ?? intlSystemZone() ?? UTC_ZONE;
  if (tz === "") return UTC_ZONE;
  const name = tz.startsWith(":") ? tz.slice(1) : tz;
  const fromFile = loadZoneFile(name);
  if (fromFile) return fromFile;
  if (!tz.startsWith(":")) {
    const posix = parsePosixTz(tz);
    if (posix) return new PosixZone(tz, posix);
  }
  try {
    return new IntlZone(name);
  } catch {
    // unknown to ICU as well
  }
  const lead = /^[A-Za-z]{3,}/.exec(name)?.[0];
  return lead ? new PosixZone(tz, { std: { abbr: lead, offset: 0 } }) : UTC_ZONE;
}

function intlSystemZone(): TimeZone | null {
  try {
    const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return name ? new IntlZone(name) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- mktime

export interface MktimeInput {
  year: number;
  month0: number; // 0-based, may be out of range (normalised like mktime)
  day: number;
  hour: number;
  minute: number;
  second: number;
  isdst: number; // -1 unknown, 0 standard, 1 DST
}

/**
 * glibc's mktime probing, with its hidden "offset from last call" state made
 * explicit (`guess`, t - wall). Returns null where glibc returns -1.
 */
export function mktime(zone: TimeZone, tm: MktimeInput, guess: number): { t: number; tm: LocalTime; guess: number } | null {
  const secRequested = tm.second;
  // Out-of-range seconds are handled separately since probing assumes 60-second minutes.
  const sec = Math.min(59, Math.max(0, tm.second));
  const wall = wallSeconds(tm.year, tm.month0, tm.day, tm.hour, tm.minute, sec);
  if (!Number.isFinite(wall) || Math.abs(wall) > 8.64e12) return null;
  const isdst = tm.isdst;
  const differ = (a: number, b: boolean) => a >= 0 && (a !== 0) !== b;

  const t0 = wall + guess;
  let t = t0;
  let t1 = t0;
  let t2 = t0;
  let dst2 = false;
  let remaining = 6;
  let cur = localtime(zone, t);
  let found = false;
  for (;;) {
    cur = localtime(zone, t);
    const dt = wall - wallOf(cur);
    if (dt === 0) break;
    if (t === t1 && t !== t2 && (isdst < 0 ? !dst2 || cur.isdst : (isdst !== 0) !== cur.isdst)) {
      found = true; // oscillating around a spring-forward gap
      break;
    }
    if (--remaining === 0) return null;
    t1 = t2;
    t2 = t;
    t += dt;
    dst2 = cur.isdst;
  }
  if (!found && differ(isdst, cur.isdst)) {
    // Right wall time, wrong DST flag: use the offset of a nearby instant with the wanted flag.
    const stride = 601200;
    const bound = 536454000 / 2 + stride;
    search: for (let delta = stride; delta < bound; delta += stride) {
      for (const dir of [-1, 1]) {
        const ot = t + delta * dir;
        const otm = localtime(zone, ot);
        if (!differ(isdst, otm.isdst)) {
          t = ot + (wall - wallOf(otm));
          cur = localtime(zone, t);
          break search;
        }
      }
    }
  }
  const newGuess = t - wall;
  if (secRequested !== sec) {
    t += secRequested - sec;
    cur = localtime(zone, t);
  }
  return { t, tm: cur, guess: newGuess };
}
