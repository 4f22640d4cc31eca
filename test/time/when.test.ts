// The natural phrases, the WHEN trap guards and chrono's suggestions. Every
// production is compared with GNU date on its GNU spelling, with the clock
// pinned by libfaketime, in five zones and on days next to DST changes.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as chrono from "chrono-node/en";
import { formatTime } from "../../src/time/format.ts";
import { InvalidDateError, type TimeSpec } from "../../src/time/parse.ts";
import { parseWhen, readTime, TimeTrapError } from "../../src/time/when.ts";
import { UsageError } from "../../src/errors.ts";

const GNU_DATE = "/usr/bin/date";
const haveGnu = /GNU coreutils/.test(spawnSync(GNU_DATE, ["--version"], { encoding: "utf8" }).stdout ?? "");
const haveFaketime = spawnSync("faketime", ["-f", "2026-01-01 00:00:00", "true"]).status === 0;
if (!haveGnu) console.warn(`SKIP: ${GNU_DATE} is not GNU coreutils date; natural phrases are not compared with GNU`);
else if (!haveFaketime) console.warn("SKIP: faketime not installed (apt-get install faketime); natural phrases are not compared with GNU");

/** [natural phrase, the GNU spelling that means the same]. */
const PRODUCTIONS: [string, string][] = [
  ["in 2 hours", "2 hours"], ["in 3 days", "3 days"], ["in 1 week and 2 days", "1 week 2 days"],
  ["3 days from now", "3 days"], ["36 hours later", "36 hours"], ["2 weeks earlier", "2 weeks ago"],
  ["90 minutes before now", "90 minutes ago"], ["2 days before", "2 days ago"], ["3 hours before noon", "today 09:00"],
  ["yesterday at 5pm", "yesterday 17:00"], ["tomorrow at 09:00", "tomorrow 09:00"], ["at 17:30", "17:30"],
  ["today at 5 pm", "today 17:00"], ["friday at 10:30am", "friday 10:30"],
  ["noon", "12:00"], ["midday", "12:00"], ["midnight", "today 00:00"], ["noon yesterday", "yesterday 12:00"],
  ["midnight tomorrow", "tomorrow 00:00"], ["2 days ago at noon", "2 days ago 12:00"], ["at midnight", "00:00"],
  ["March 1st 2026", "2026-03-01"], ["1st March 2026", "2026-03-01"], ["Dec 25th", "Dec 25"],
  ["November 22nd, 2026 10:00", "2026-11-22 10:00"], ["April 3rd", "April 3"], ["May 11th 2026 at noon", "2026-05-11 12:00"],
  ["three days ago", "3 days ago"], ["twelve hours from now", "12 hours"], ["in two weeks", "2 weeks"],
  ["an hour ago", "1 hour ago"], ["in a week", "1 week"], ["a minute from now", "1 minute"],
  ["half an hour ago", "30 minutes ago"], ["in half an hour", "30 minutes"],
  ["36h ago", "36 hours ago"], ["in 2d", "2 days"], ["1w ago", "1 week ago"], ["90m ago", "90 minutes ago"],
  ["30s ago", "30 seconds ago"], ["1h30m ago", "90 minutes ago"], ["in 1d 12h", "1 day 12 hours"],
  ["1 hour and 30 minutes ago", "90 minutes ago"], ["2 days, 3 hours ago", "2 days ago 3 hours ago"],
  ["1 day and 2 hours from now", "1 day 2 hours"], ["the day before yesterday", "2 days ago"],
  ["the day after tomorrow", "2 days"], ["the day before yesterday at noon", "2 days ago 12:00"],
  ["day after tomorrow at 10:00", "2 days 10:00"], ["yesterday at midnight", "yesterday 00:00"],
];

const ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"];
/** Pinned clocks: next to the 2026 DST changes of New York, Berlin and Lord Howe, and an ordinary day. */
const NOWS = [
  "2026-03-07T17:13:45Z", "2026-03-28T11:13:45Z", "2026-04-04T01:13:45Z",
  "2026-10-03T01:13:45Z", "2026-10-31T16:13:45Z", "2026-12-02T11:13:45Z",
].map((s) => new Date(s));

const dir = mkdtempSync(join(tmpdir(), "dsbackup-when-"));
/** GNU date -d on each line with the clock frozen at `now`; "ERR" where GNU rejects it. */
function gnuAt(lines: string[], now: Date, tz: string): string[] {
  const file = join(dir, "in.txt");
  writeFileSync(file, lines.join("\n") + "\n");
  const wall = formatTime(now, "%Y-%m-%d %H:%M:%S", { zone: tz });
  const script = `while IFS= read -r line; do ${GNU_DATE} -d "$line" +%s 2>/dev/null || echo ERR; done < "$1"`;
  const r = spawnSync("faketime", ["-f", wall, "sh", "-c", script, "sh", file], { encoding: "utf8", env: { TZ: tz, LC_ALL: "C", PATH: "/usr/bin:/bin" } });
  return r.stdout.trimEnd().split("\n");
}
const secs = (s: TimeSpec) => String(s.sec);

describe.skipIf(!haveGnu || !haveFaketime)("natural phrases mean what their GNU spelling means", () => {
  for (const tz of ZONES) {
    test(`TZ=${tz}`, () => {
      const problems: string[] = [];
      for (const now of NOWS) {
        const gnuNatural = gnuAt(PRODUCTIONS.map(([n]) => n), now, tz);
        const gnuSpelling = gnuAt(PRODUCTIONS.map(([, g]) => g), now, tz);
        PRODUCTIONS.forEach(([natural, spelling], k) => {
          const where = `${now.toISOString()} ${JSON.stringify(natural)}`;
          // An extension only ever covers strings GNU refuses.
          if (gnuNatural[k] !== "ERR") problems.push(`${where}: GNU accepts it (${gnuNatural[k]})`);
          if (gnuSpelling[k] === "ERR") problems.push(`${where}: GNU refuses the spelling ${JSON.stringify(spelling)}`);
          let ours = "ERR";
          try {
            const r = readTime(natural, { now, zone: tz });
            ours = secs(r.spec);
            if (!r.natural || r.traps.length) problems.push(`${where}: natural=${r.natural} traps=${r.traps.length}`);
            if (secs(parseWhen(natural, { now, zone: tz }).spec) !== ours) problems.push(`${where}: parseWhen differs`);
          } catch (e) {
            ours = `ERR ${(e as Error).message}`;
          }
          if (ours !== gnuSpelling[k]) problems.push(`${where}: ours=${ours} gnu(${JSON.stringify(spelling)})=${gnuSpelling[k]}`);
        });
      }
      expect(problems).toEqual([]);
    });
  }

  test("in WHEN, 'a day ago' is GNU's '1 day ago' (GNU's own reading is 25 hours ago in UTC)", () => {
    for (const tz of ZONES) {
      for (const now of NOWS) {
        const [oneDay, gnuA] = gnuAt(["1 day ago", "a day ago"], now, tz);
        expect(secs(parseWhen("a day ago", { now, zone: tz }).spec)).toBe(oneDay!);
        expect(secs(readTime("a day ago", { now, zone: tz }).spec)).toBe(gnuA!); // dsbackup date: GNU's value
      }
    }
    expect(Number(gnuAt(["1 day ago", "a day ago"], NOWS[5]!, "UTC").reduce((a, b) => String(Number(a) - Number(b))))).toBe(3600);
  });

  test("trap strings keep GNU's value in readTime (dsbackup date is a drop-in)", () => {
    const traps = TRAPS.map(([s]) => s);
    for (const tz of ZONES) {
      const gnu = gnuAt(traps, NOWS[1]!, tz);
      traps.forEach((s, k) => expect(`${s}: ${secs(readTime(s, { now: NOWS[1]!, zone: tz }).spec)}`).toBe(`${s}: ${gnu[k]}`));
    }
  });
});

/** [GNU-accepted trap string, the sentence parseWhen must refuse it with] at 2026-12-02 11:13:45 UTC. */
const TRAPS: [string, string][] = [
  ["1 hour 30 minutes ago", `"1 hour 30 minutes ago" means 30 minutes from now in GNU date ('ago' applies only to the item just before it); write "90 minutes ago" or "1 hour ago 30 minutes ago"`],
  ["2 days 3 hours ago", `"2 days 3 hours ago" means 2026-12-04 08:13:45 UTC in GNU date ('ago' applies only to the item just before it); write "2 days ago 3 hours ago"`],
  ["1 year 2 months ago", `"1 year 2 months ago" means 2027-10-02 11:13:45 UTC in GNU date ('ago' applies only to the item just before it); write "14 months ago" or "1 year ago 2 months ago"`],
  ["2026-11-20 1 week 2 days ago", `"2026-11-20 1 week 2 days ago" means 2026-11-25 00:00:00 UTC in GNU date ('ago' applies only to the item just before it); write "2026-11-20 9 days ago" or "2026-11-20 1 week ago 2 days ago"`],
  ["20260301T1200", `"20260301T1200" means 2026-03-01 19:00:00 UTC in GNU date ('T' is the military time zone Tango, UTC-07:00); write "2026-03-01 12:00" or "2026-03-01 12:00 -07:00"`],
  ["09:00B", `"09:00B" means 2026-12-02 07:00:00 UTC in GNU date ('B' is the military time zone Bravo, UTC+02:00); write "2026-12-02 09:00" or "2026-12-02 09:00 +02:00"`],
  ["2026-03-01 12:00 b", `"2026-03-01 12:00 b" means 2026-03-01 10:00:00 UTC in GNU date ('b' is the military time zone Bravo, UTC+02:00); write "2026-03-01 12:00" or "2026-03-01 12:00 +02:00"`],
  ["2d", `"2d" means 2026-12-01 22:00:00 UTC in GNU date ('d' is the military time zone Delta, UTC+04:00); write "2 days"`],
  ["12h", `"12h" means 2026-12-02 04:00:00 UTC in GNU date ('h' is the military time zone Hotel, UTC+08:00); write "12 hours"`],
  ["a hours ago", `"a hours ago" means 2 hours ago in GNU date ('a' is the military time zone Alpha, UTC+01:00); write "hours ago"`],
  ["a", `"a" means 2026-12-01 23:00:00 UTC in GNU date ('a' is the military time zone Alpha, UTC+01:00); give the zone as a number such as +01:00, or leave it out for local time`],
];

describe("trap guards", () => {
  const now = new Date("2026-12-02T11:13:45Z");
  const opts = { now, zone: "UTC" };
  test.each(TRAPS)("%p is refused in WHEN with GNU's reading and advice", (input, message) => {
    let err: unknown;
    try {
      parseWhen(input, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TimeTrapError);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as Error).message).toBe(message);
    expect(readTime(input, opts).traps.map((t) => t.message)).toEqual([message]);
    // Every advised spelling is accepted as it stands, without a trap.
    for (const [, advice] of message.matchAll(/write (.*)$/g)) {
      for (const [, alt] of advice!.matchAll(/"([^"]+)"/g)) expect(() => parseWhen(alt!, opts)).not.toThrow();
    }
  });
  test("the advised spellings of an 'ago' trap all mean what the words say", () => {
    const meant = parseWhen("1 hour and 30 minutes ago", opts).spec.sec;
    expect(meant).toBe(now.getTime() / 1000 - 5400);
    expect(parseWhen("90 minutes ago", opts).spec.sec).toBe(meant);
    expect(parseWhen("1 hour ago 30 minutes ago", opts).spec.sec).toBe(meant);
  });
  test("no trap where GNU means what the words say", () => {
    for (const s of ["36 hours ago", "2026-11-20T10:00:00Z", "2026-11-20T10:00:00", "1 hour ago 30 minutes ago", "+1 hour 30 minutes ago", "yesterday 2 hours ago", "2 hours 30 minutes", "1 year 2 months hence", "2026-03-10 12:00 UTC", "now"]) {
      expect(readTime(s, opts).traps).toEqual([]);
      expect(() => parseWhen(s, opts)).not.toThrow();
    }
  });
  test("parseWhen describes the instant in the zone and in UTC", () => {
    expect(parseWhen("noon yesterday", { now, zone: "Europe/Berlin" }).description).toBe("resolved to 2026-12-01 12:00:00 CET (2026-12-01 11:00:00 UTC)");
    expect(parseWhen("in 2 hours", { now, zone: "Asia/Kolkata" }).description).toBe("resolved to 2026-12-02 18:43:45 IST (2026-12-02 13:13:45 UTC)");
  });
});

describe("nonsense is refused", () => {
  const now = new Date("2026-12-02T11:13:45Z");
  const NONSENSE = [
    "36 hourz ago", "banana friday", "in 3 days ago", "3 days from now now", "tomorrow 25:00", "in", "at", "at 5",
    "at yesterday", "and 2 hours", "2 hours and", "2 hours, and", "in noon", "the day", "the day before", "1st", "32nd March",
    "March 2st", "March 11st", "half an hour hour", "half a hour", "one", "one o'clock", "an", "in an",
    "2 days from", "from now", "noon noon", "midnight 10:00", "3 days earlier ago", "36x ago", "1h30 ago", "in 3 days at 5",
    "\u0663 days ago", "\uff13 days ago", "in\u00a02 hours", "in 2\u2009hours", "noon\u3000yesterday", "36 hours\u00a0ago",
  ];
  test.each(NONSENSE)("%p", (s) => {
    for (const zone of ZONES) {
      expect(() => readTime(s, { now, zone })).toThrow(InvalidDateError);
      expect(() => parseWhen(s, { now, zone })).toThrow(InvalidDateError);
    }
  });
});

/** Parse with chrono as a careless caller would: the offset of "now" for every date. */
function chronoNaive(text: string, now: Date, offsetMinutes: number) {
  return chrono.parse(text, { instant: now, timezone: offsetMinutes })[0]!;
}

describe("chrono-node suggests, never decides", () => {
  const wednesday = new Date("2026-12-02T11:13:45Z");
  const quoted = (e: unknown) => /did you mean "([^"]+)"/.exec((e as Error).message)?.[1];
  const errorOf = (s: string, now: Date, zone: string) => {
    try {
      parseWhen(s, { now, zone });
    } catch (e) {
      return e;
    }
    throw new Error(`${s} was accepted`);
  };
  test.each([
    ["5pm on friday", "UTC", "2026-12-04 17:00", "Friday"],
    ["5pm on friday", "Europe/Berlin", "2026-12-04 17:00", "Friday"],
    ["on friday at 5pm", "America/New_York", "2026-12-04 17:00", "Friday"],
    ["tonight at 11", "Asia/Kolkata", "2026-12-02 23:00", "Wednesday"],
    ["december 4th at 5 in the afternoon", "Australia/Lord_Howe", "2026-12-04 17:00", "Friday"],
  ])("%p in %s: suggested, and the suggestion round-trips", (input, zone, suggestion, weekday) => {
    const e = errorOf(input, wednesday, zone);
    expect(e).toBeInstanceOf(InvalidDateError);
    expect((e as Error).message).toBe(`invalid date '${input}'; did you mean "${suggestion}" (${weekday})? write it that way to use it`);
    // The suggestion is ours to parse, and means the instant chrono read (given the right offset).
    const r = parseWhen(suggestion, { now: wednesday, zone });
    const offsetMinutes = (Date.parse(`${suggestion.replace(" ", "T")}:00Z`) - r.date.getTime()) / 60000;
    expect(chronoNaive(input, wednesday, offsetMinutes).start.date().getTime()).toBe(r.date.getTime());
  });
  test("no suggestion for a fragment or nothing", () => {
    for (const s of ["banana friday", "36 hourz ago", "2 weeks from friday", "xyzzy"]) {
      const e = errorOf(s, wednesday, "UTC") as InvalidDateError;
      expect(e.suggestion).toBeUndefined();
      expect(e.message).toBe(`invalid date '${s}'`);
    }
  });
  test("across a DST change the suggestion uses the offset of the day it names, not chrono's", () => {
    const saturday = new Date("2026-03-28T11:13:45Z"); // Berlin: CET today, CEST from tomorrow
    const e = errorOf("5pm on monday", saturday, "Europe/Berlin");
    expect(quoted(e)).toBe("2026-03-30 17:00");
    expect(parseWhen("2026-03-30 17:00", { now: saturday, zone: "Europe/Berlin" }).date.toISOString()).toBe("2026-03-30T15:00:00.000Z");
    // chrono alone, given today's offset, is an hour off.
    expect(chronoNaive("5pm on monday", saturday, 60).start.date().toISOString()).toBe("2026-03-30T16:00:00.000Z");
  });
});

describe("chrono-node's misreadings, measured (README, Time strings)", () => {
  const wednesday = new Date("2026-12-02T11:13:45Z");
  test("a date without a time gets 12:00", () => {
    expect(chronoNaive("Dec 25th", wednesday, 0).start.date().toISOString()).toBe("2026-12-25T12:00:00.000Z");
    expect(chronoNaive("next friday", wednesday, 0).start.date().toISOString()).toBe("2026-12-11T12:00:00.000Z");
  });
  test("'Dec 25th' and 'March 1st' mean the nearest one, not this year's", () => {
    expect(chronoNaive("Jan 5th", wednesday, 0).start.date().toISOString()).toBe("2027-01-05T12:00:00.000Z");
    expect(chronoNaive("Nov 30th", wednesday, 0).start.date().toISOString()).toBe("2026-11-30T12:00:00.000Z");
  });
  test("'tuesday at 5pm' on a Wednesday is yesterday", () => {
    expect(chronoNaive("tuesday at 5pm", wednesday, 0).start.date().toISOString()).toBe("2026-12-01T17:00:00.000Z");
  });
  test("the offset of now is used across a DST change", () => {
    const saturday = new Date("2026-03-28T11:13:45Z");
    expect(chronoNaive("tomorrow at 17:00", saturday, 60).start.date().toISOString()).toBe("2026-03-29T16:00:00.000Z"); // 18:00 CEST
    expect(readTime("tomorrow at 17:00", { now: saturday, zone: "Europe/Berlin" }).spec.sec * 1000).toBe(Date.parse("2026-03-29T15:00:00Z"));
  });
});
