// Strings GNU date accepts with a meaning nobody intends: a one-letter word
// read as a military time zone ("a day ago" is 25 hours ago, "20260301T1200"
// is 19:00 UTC) and "ago" negating only the item right before it ("1 hour
// 30 minutes ago" is 30 minutes from now). Each trap comes with GNU's reading
// and spellings that say one thing everywhere.
import { formatTime } from "./format.ts";
import { naturalToGnu } from "./natural.ts";
import { parseGnuDetailed, toTimeSpec, type GnuNotes, type ParseOptions, type TimeSpec } from "./parse.ts";

export interface TimeTrap {
  kind: "letter-zone" | "ago";
  /** `"1 hour 30 minutes ago" means 30 minutes from now in GNU date (...); write "90 minutes ago" or ...` */
  message: string;
}

const NATO = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu"];

/** "+01:00" for 3600. */
export function offsetText(seconds: number): string {
  const a = Math.abs(seconds);
  return `${seconds < 0 ? "-" : "+"}${String(Math.floor(a / 3600)).padStart(2, "0")}:${String(Math.floor((a % 3600) / 60)).padStart(2, "0")}`;
}

/** An instant as dsbackup spells it back: local wall clock, seconds only when not zero. */
export function wallClockText(spec: TimeSpec, zone: string | undefined): string {
  const f = formatTime(spec, "%Y-%m-%d %H:%M:%S", { zone });
  return f.endsWith(":00") ? f.slice(0, -3) : f;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** "25 hours ago", "30 minutes from now", in the largest whole unit. */
export function relativeText(seconds: number): string {
  if (seconds === 0) return "now";
  const a = Math.abs(seconds);
  const text = a % 86400 === 0 ? plural(a / 86400, "day") : a % 3600 === 0 ? plural(a / 3600, "hour") : a % 60 === 0 ? plural(a / 60, "minute") : plural(a, "second");
  return seconds < 0 ? `${text} ago` : `${text} from now`;
}

function gnuReading(spec: TimeSpec, notes: GnuNotes, opts: ParseOptions, fixedUnitsOnly: boolean): string {
  if (notes.onlyRelative && fixedUnitsOnly) return relativeText(spec.sec - toTimeSpec(opts.now).sec);
  return formatTime(spec, "%Y-%m-%d %H:%M:%S %Z", { zone: opts.zone });
}

const quoteList = (alts: string[]) => [...new Set(alts)].map((a) => JSON.stringify(a)).join(" or ");

const HMS = new Set(["HOUR_UNIT", "MINUTE_UNIT", "SEC_UNIT"]);

/** The traps in a string the GNU grammar accepted (`text`, with its parse). */
export function findTraps(text: string, spec: TimeSpec, notes: GnuNotes, opts: ParseOptions): TimeTrap[] {
  const traps: TimeTrap[] = [];
  const zoneInfo = (z: GnuNotes["letterZones"][number]) => `'${text.slice(z.start, z.end)}' is the military time zone ${NATO[z.letter.charCodeAt(0) - 65]}, UTC${offsetText(z.offset)}`;

  for (const z of notes.letterZones) {
    const alts: string[] = [];
    const natural = naturalToGnu(text);
    if (natural !== null) alts.push(natural); // "a day ago" -> "1 day ago", "12h" -> "12 hours"
    const stripped = `${text.slice(0, z.start)} ${text.slice(z.end)}`.trim().replace(/\s+/g, " ");
    // A bare integer would be epoch seconds ("2d" without its letter is 2 seconds after 1970).
    const plain = stripped === "" || /^[+-]?\d+$/.test(stripped) ? null : parseGnuDetailed(stripped, opts);
    if (plain && plain.notes.letterZones.length === 0) {
      if (!plain.notes.onlyRelative) {
        const wall = wallClockText(plain.spec, opts.zone);
        alts.push(wall, `${wall} ${offsetText(z.offset)}`);
      } else if (natural === null) alts.push(stripped);
    }
    const fixed = notes.relItems.every((r) => HMS.has(r.unit) || r.unit === "DAY_UNIT");
    const advice = alts.length ? `; write ${quoteList(alts)}` : "; give the zone as a number such as +01:00, or leave it out for local time";
    traps.push({ kind: "letter-zone", message: `${JSON.stringify(text)} means ${gnuReading(spec, notes, opts, fixed)} in GNU date (${zoneInfo(z)})${advice}` });
  }

  const rel = notes.relItems;
  for (let k = 1; k < rel.length; k++) {
    if (!rel[k]!.ago) continue;
    let j = k;
    while (j > 0 && rel[j - 1]!.next === rel[j]!.first && !rel[j - 1]!.ago && !rel[j - 1]!.signed) j--;
    if (j === k) continue;
    const run = rel.slice(j, k + 1);
    const before = text.slice(0, run[0]!.start);
    const after = text.slice(run[run.length - 1]!.end);
    const alts: string[] = [];
    const combined = combine(run);
    if (combined) alts.push(`${before}${combined} ago${after}`);
    alts.push(`${before}${run.map((r) => (r.ago ? text.slice(r.start, r.end) : `${text.slice(r.start, r.end)} ago`)).join(" ")}${after}`);
    const fixed = rel.every((r) => HMS.has(r.unit));
    traps.push({ kind: "ago", message: `${JSON.stringify(text)} means ${gnuReading(spec, notes, opts, fixed)} in GNU date ('ago' applies only to the item just before it); write ${quoteList(alts.map((a) => a.trim()))}` });
  }
  return traps;
}

/** One item for a run of like units: hours/minutes/seconds, days/weeks, or years/months. */
function combine(run: GnuNotes["relItems"]): string | null {
  if (run.some((r) => r.n < 0 || !Number.isInteger(r.n))) return null;
  if (run.every((r) => HMS.has(r.unit))) {
    const s = run.reduce((t, r) => t + r.n * (r.unit === "HOUR_UNIT" ? 3600 : r.unit === "MINUTE_UNIT" ? 60 : 1), 0);
    return s % 3600 === 0 ? plural(s / 3600, "hour") : s % 60 === 0 ? plural(s / 60, "minute") : plural(s, "second");
  }
  if (run.every((r) => r.unit === "DAY_UNIT")) return plural(run.reduce((t, r) => t + r.n * r.unitValue, 0), "day");
  if (run.every((r) => r.unit === "YEAR_UNIT" || r.unit === "MONTH_UNIT")) {
    return plural(run.reduce((t, r) => t + r.n * (r.unit === "YEAR_UNIT" ? 12 : 1), 0), "month");
  }
  return null;
}
