import { describe, expect, test } from "bun:test";
import { DateUsageError, runDate } from "../../src/commands/date.ts";
import { InvalidDateError } from "../../src/time/parse.ts";

const now = new Date("2026-11-26T11:13:45Z");
async function run(argv: string[], TZ = "UTC0", warnings: string[] = []): Promise<string> {
  let out = "";
  const code = await runDate(argv, { stdout: (s) => (out += s), now, env: { TZ }, warn: (m) => warnings.push(m) });
  expect(code).toBe(0);
  return out;
}

describe("runDate", () => {
  test("default output is GNU's C-locale format", async () => {
    expect(await run([])).toBe("Thu Nov 26 11:13:45 UTC 2026\n");
    expect(await run([], "Europe/Berlin")).toBe("Thu Nov 26 12:13:45 CET 2026\n");
  });
  test("-d and --date forms, including values starting with '-'", async () => {
    expect(await run(["-d", "-1 day", "+%F"])).toBe("2026-11-25\n");
    expect(await run(["--date=36 hours ago", "+%F %T"])).toBe("2026-11-24 23:13:45\n");
    expect(await run(["--date", "@0", "+%s"])).toBe("0\n");
    expect(await run(["-d@31536000", "-Iseconds"])).toBe("1971-01-01T00:00:00+00:00\n");
  });
  test("-u, -I, -R, --rfc-3339", async () => {
    expect(await run(["-u", "-d", "2026-01-01 10:00 CET"], "Europe/Berlin")).toBe("Thu Jan  1 09:00:00 UTC 2026\n");
    expect(await run(["-I"])).toBe("2026-11-26\n");
    expect(await run(["--iso-8601=minutes"])).toBe("2026-11-26T11:13+00:00\n");
    expect(await run(["-Ins", "-d", "1969-12-31 13:00:00.00000001-1100"])).toBe("1970-01-01T00:00:00,000000010+00:00\n");
    expect(await run(["-R", "-d", "1997-01-19 08:17:48 +0"])).toBe("Sun, 19 Jan 1997 08:17:48 +0000\n");
    expect(await run(["--rfc-3339=sec", "-d", "@31536000"])).toBe("1971-01-01 00:00:00+00:00\n");
    expect(await run(["--universal", "+%Z"], "America/New_York")).toBe("UTC\n");
  });
  test("phrases GNU refuses are read; GNU's traps print GNU's value and a warning", async () => {
    const warnings: string[] = [];
    expect(await run(["-d", "in 2 hours", "+%F %T"], "UTC0", warnings)).toBe("2026-11-26 13:13:45\n");
    expect(await run(["-d", "yesterday at noon", "+%F %T"], "UTC0", warnings)).toBe("2026-11-25 12:00:00\n");
    expect(warnings).toEqual([]);
    expect(await run(["-d", "a day ago", "+%F %T"], "UTC0", warnings)).toBe("2026-11-25 10:13:45\n"); // GNU: 25 hours
    expect(await run(["-d", "1 hour 30 minutes ago", "+%T"], "UTC0", warnings)).toBe("11:43:45\n");
    expect(warnings).toEqual([
      `"a day ago" means 25 hours ago in GNU date ('a' is the military time zone Alpha, UTC+01:00); write "1 day ago"`,
      `"1 hour 30 minutes ago" means 30 minutes from now in GNU date ('ago' applies only to the item just before it); write "90 minutes ago" or "1 hour ago 30 minutes ago"`,
    ]);
  });
  test("errors are typed", async () => {
    const io = { stdout: () => {}, now };
    await expect(runDate(["-d", "banana"], io)).rejects.toBeInstanceOf(InvalidDateError);
    await expect(runDate(["-x"], io)).rejects.toBeInstanceOf(DateUsageError);
    await expect(runDate(["-d"], io)).rejects.toBeInstanceOf(DateUsageError);
    await expect(runDate(["-I", "-R"], io)).rejects.toBeInstanceOf(DateUsageError);
    await expect(runDate(["--iso-8601=weeks"], io)).rejects.toBeInstanceOf(DateUsageError);
    await expect(runDate(["12251200"], io)).rejects.toBeInstanceOf(DateUsageError);
  });
});
