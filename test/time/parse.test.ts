import { describe, expect, test } from "bun:test";
import { InvalidDateError, parseTime } from "../../src/time/parse.ts";
import { INVALID_CASES } from "./cases.ts";

// Pinned clock: Thu 2026-11-26 11:13:45 UTC.
const now = new Date("2026-11-26T11:13:45Z");
const utc = (s: string) => parseTime(s, { now, zone: "UTC0" }).toISOString();
const berlin = (s: string) => parseTime(s, { now, zone: "Europe/Berlin" }).toISOString();

describe("parseTime", () => {
  test("bare integers are epoch seconds (the backup tool's rule)", () => {
    expect(utc("0")).toBe("1970-01-01T00:00:00.000Z");
    expect(utc("20050101")).toBe("1970-08-21T01:28:21.000Z");
    expect(utc("-86400")).toBe("1969-12-31T00:00:00.000Z");
    expect(utc(" +60 ")).toBe("1970-01-01T00:01:00.000Z");
  });
  test("absolute dates and times", () => {
    expect(utc("2026-11-20")).toBe("2026-11-20T00:00:00.000Z");
    expect(berlin("2026-11-20 10:00:00")).toBe("2026-11-20T09:00:00.000Z");
    expect(berlin("2026-11-20T10:00:00Z")).toBe("2026-11-20T10:00:00.000Z");
    expect(utc("Nov 10 1996")).toBe("1996-11-10T00:00:00.000Z");
    expect(utc("10 Nov 1996 18:00")).toBe("1996-11-10T18:00:00.000Z");
    expect(utc("May-23-2003")).toBe("2003-05-23T00:00:00.000Z");
    expect(utc("11/20/26")).toBe("2026-11-20T00:00:00.000Z");
    expect(utc("1996-11-10 18:00:00.5")).toBe("1996-11-10T18:00:00.500Z");
    expect(utc("@-1.5")).toBe("1969-12-31T23:59:58.500Z");
    expect(utc('TZ="Europe/Paris" 2026-01-01 10:00')).toBe("2026-01-01T09:00:00.000Z");
  });
  test("relative items", () => {
    expect(utc("36 hours ago")).toBe("2026-11-24T23:13:45.000Z");
    expect(utc("-36 hours")).toBe("2026-11-24T23:13:45.000Z");
    expect(utc("2 days ago 12:00")).toBe("2026-11-24T12:00:00.000Z");
    expect(utc("1997-01-19 08:17:48 +0 6 years ago")).toBe("1991-01-19T08:17:48.000Z");
    expect(utc("20050101 +1 day")).toBe("2005-01-02T00:00:00.000Z");
    expect(utc("2026-01-31 +1 month")).toBe("2026-03-03T00:00:00.000Z");
    // GNU applies "ago" only to the item right before it.
    expect(utc("1 year 2 months ago")).toBe("2027-09-26T11:13:45.000Z");
  });
  test("day words and weekdays", () => {
    expect(utc("yesterday")).toBe("2026-11-25T11:13:45.000Z");
    expect(utc("monday")).toBe("2026-11-30T00:00:00.000Z");
    expect(utc("last friday")).toBe("2026-11-20T00:00:00.000Z");
    expect(utc("this thursday")).toBe("2026-11-26T00:00:00.000Z");
    expect(utc("third monday")).toBe("2026-12-14T00:00:00.000Z");
  });
  test("relative days follow the calendar across DST, hours do not", () => {
    const base = "2026-03-28 12:00";
    expect(berlin(`${base} 1 day`)).toBe("2026-03-29T10:00:00.000Z");
    expect(berlin(`${base} 24 hours`)).toBe("2026-03-29T11:00:00.000Z");
    // GNU quirk kept: after a time, "+1" is a UTC offset, so this is 12:00+01:00 plus one day.
    expect(berlin(`${base} +1 day`)).toBe("2026-03-29T11:00:00.000Z");
  });
  test("invalid strings throw InvalidDateError with GNU's wording", () => {
    for (const s of INVALID_CASES) {
      expect(() => parseTime(s, { now, zone: "Europe/Berlin" })).toThrow(InvalidDateError);
    }
    expect(() => parseTime("36 hourz ago", { now })).toThrow("invalid date '36 hourz ago'");
    const err = (() => { try { parseTime("banana", { now }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(SyntaxError);
  });
  test("random junk is rejected, never guessed", () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = "!#$%&*;<>?[]{}|~`^\"'\\\u00e9\u0000\u00ff"; // no letters: single letters are military zones
    for (let k = 0; k < 500; k++) {
      let s = "2026-01-01 ";
      const n = 1 + Math.floor(rnd() * 6);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(() => parseTime(s, { now })).toThrow(InvalidDateError);
    }
  });
});
