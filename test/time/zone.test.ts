import { describe, expect, test } from "bun:test";
import { formatTime } from "../../src/time/format.ts";
import { localtime, mktime, parsePosixTz, resolveZone } from "../../src/time/zone.ts";

describe("zones", () => {
  test("POSIX TZ strings", () => {
    expect(parsePosixTz("UTC0")).toEqual({ std: { abbr: "UTC", offset: 0 } });
    expect(parsePosixTz("<+03>-3")?.std).toEqual({ abbr: "+03", offset: 10800 });
    expect(parsePosixTz("CET-1CEST,M3.5.0,M10.5.0/3")?.dst?.offset).toBe(7200);
    expect(parsePosixTz("nonsense")).toBeNull();
    const z = resolveZone("CET-1CEST,M3.5.0,M10.5.0/3");
    expect(localtime(z, Date.UTC(2026, 6, 1) / 1000).abbr).toBe("CEST");
    expect(localtime(z, Date.UTC(2026, 0, 1) / 1000).abbr).toBe("CET");
  });
  test("mktime resolves gaps and DST hints like glibc", () => {
    const berlin = resolveZone("Europe/Berlin");
    const gap = mktime(berlin, { year: 2026, month0: 2, day: 29, hour: 2, minute: 30, second: 0, isdst: -1 }, -3600);
    expect(formatTime({ sec: gap!.t, nsec: 0 }, "%F %T %Z", { zone: "Europe/Berlin" })).toBe("2026-03-29 03:30:00 CEST");
    const hinted = mktime(berlin, { year: 2026, month0: 4, day: 26, hour: 11, minute: 0, second: 0, isdst: 0 }, -3600);
    expect(formatTime({ sec: hinted!.t, nsec: 0 }, "%T %Z", { zone: "Europe/Berlin" })).toBe("12:00:00 CEST");
  });
  test("%Z abbreviations", () => {
    const t = new Date("2026-01-15T12:00:00Z");
    expect(formatTime(t, "%Z", { zone: "Europe/Berlin" })).toBe("CET");
    expect(formatTime(t, "%Z", { zone: "EST5EDT" })).toBe("EST");
    expect(formatTime(t, "%Z", { utc: true })).toBe("UTC");
    expect(formatTime(t, "%Z %z", { zone: "<+03>-3" })).toBe("+03 +0300");
  });
});
