// chrono-node as a suggester only. It reads far more English than our
// grammars, but silently misreads much of it (dates get 12:00, "Dec 25th" is
// the nearest one, "tuesday at 5pm" on a Wednesday is yesterday, the offset of
// "now" is used across a DST change; the README's "Time strings" has measurements), so
// its reading is only ever shown as a spelling our own parser accepts and
// maps to the same instant, never used as the value. Loaded lazily: a string
// we understand never pays for it.
import { formatTime } from "./format.ts";
import { parseGnuDetailed, toTimeSpec, type ParseOptions, type TimeSpec } from "./parse.ts";
import { wallClockText } from "./traps.ts";
import { localtime, resolveZone } from "./zone.ts";

type Chrono = typeof import("chrono-node/en");
let chrono: Chrono | undefined;

/** The sentence for an invalid-date error, or undefined when chrono has no single reading we can spell. */
export function suggestSpelling(input: string, opts: ParseOptions): string | undefined {
  if (input.length > 200 || input.trim() === "") return undefined;
  chrono ??= require("chrono-node/en") as Chrono;
  const now = toTimeSpec(opts.now);
  const zone = resolveZone(opts.zone);
  const read = (offsetSeconds: number) => {
    const results = chrono!.parse(input, { instant: new Date(now.sec * 1000), timezone: offsetSeconds / 60 });
    const r = results[0];
    // One instant covering the whole string, not a range and not a fragment ("banana friday").
    if (results.length !== 1 || !r || r.end || r.text !== input.trim()) return undefined;
    return r.start;
  };
  let start = read(localtime(zone, now.sec).offset);
  if (!start) return undefined;
  const timeKnown = start.isCertain("hour");
  const wall = (c: NonNullable<typeof start>) => {
    const p2 = (n: number) => String(n).padStart(2, "0");
    const date = `${String(c.get("year")).padStart(4, "0")}-${p2(c.get("month")!)}-${p2(c.get("day")!)}`;
    if (!timeKnown) return date; // chrono's 12:00 for a date is its default, not the user's
    const s = c.get("second") ?? 0;
    return `${date} ${p2(c.get("hour")!)}:${p2(c.get("minute") ?? 0)}${s ? `:${p2(s)}` : ""}`;
  };
  const ours = (text: string): TimeSpec | undefined => {
    const g = parseGnuDetailed(text, opts);
    return g && g.notes.letterZones.length === 0 ? g.spec : undefined;
  };
  let text = wall(start);
  let spec = ours(text);
  if (!spec) return undefined;
  if (timeKnown && start.date().getTime() !== spec.sec * 1000) {
    // chrono used today's offset; ask again with the offset at the instant it meant.
    start = read(localtime(zone, spec.sec).offset);
    if (!start) return undefined;
    text = wall(start);
    spec = ours(text);
    if (!spec || start.date().getTime() !== spec.sec * 1000) return undefined;
  }
  // A date-only reading must land on the day chrono named.
  if (!timeKnown && wallClockText(spec, opts.zone).slice(0, 10) !== text) return undefined;
  return `did you mean ${JSON.stringify(text)} (${formatTime(spec, "%A", { zone: opts.zone })})? write it that way to use it`;
}
