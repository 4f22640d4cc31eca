// Differential suite: parseTime/formatTime against the machine's GNU date.
// GNU runs once per string (a fresh process, as under cron) inside one shell
// loop, which keeps the lines aligned even when some strings are invalid.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTime } from "../../src/time/format.ts";
import { parseTimeSpec, type TimeSpec } from "../../src/time/parse.ts";
import { readTime } from "../../src/time/when.ts";
import { ABSOLUTE_CASES, COREUTILS_CASES, INVALID_CASES, NOW_CASES } from "./cases.ts";

const GNU_DATE = "/usr/bin/date";
const gnuVersion = spawnSync(GNU_DATE, ["--version"], { encoding: "utf8" });
const haveGnu = gnuVersion.status === 0 && /GNU coreutils/.test(gnuVersion.stdout ?? "");
if (!haveGnu) console.warn(`differential tests skipped: ${GNU_DATE} is not GNU coreutils date`);

const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "EST5EDT", "UTC0"];
const dir = mkdtempSync(join(tmpdir(), "dsbackup-time-"));

/** Run GNU date -d on each line; "ERR" where GNU rejects it. */
function gnuParse(lines: string[], tz: string): string[] {
  const file = join(dir, "in.txt");
  writeFileSync(file, lines.join("\n") + "\n");
  const script = `while IFS= read -r line; do ${GNU_DATE} -d "$line" '+%s %N' 2>/dev/null || echo ERR; done < "$1"`;
  const r = spawnSync("sh", ["-c", script, "sh", file], { encoding: "utf8", env: { TZ: tz, LC_ALL: "C", PATH: "/usr/bin:/bin" }, maxBuffer: 1 << 26 });
  return r.stdout.trimEnd().split("\n");
}

function ours(s: string, now: TimeSpec, zone: string): string {
  try {
    const t = parseTimeSpec(s, { now, zone });
    return `${t.sec} ${String(t.nsec).padStart(9, "0")}`;
  } catch {
    return "ERR";
  }
}

const cmp = (a: string, b: string) => {
  const [as, an] = a.split(" ").map(Number) as [number, number];
  const [bs, bn] = b.split(" ").map(Number) as [number, number];
  return as - bs || an - bn;
};

function nowSpec(): TimeSpec {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

// GNU reads one line per string, so strings with newlines or NULs cannot be compared.
const comparable = (s: string) => !/[\n\0]/.test(s) && !/^\s*[+-]?\d+\s*$/.test(s);
const ALL = [...new Set([...COREUTILS_CASES, ...ABSOLUTE_CASES, ...NOW_CASES, ...INVALID_CASES])].filter(comparable);

/** Strings where we deliberately differ from GNU (see docs/time.md). */
const DELIBERATE = new Set(["", " ", "+", "-"]);

let compared = 0;
let agreed = 0;

describe.skipIf(!haveGnu)("parseTime agrees with GNU date -d", () => {
  for (const tz of ZONES) {
    test(`TZ=${tz}`, () => {
      const strings = ALL.filter((s) => !DELIBERATE.has(s));
      const before = nowSpec();
      const gnu = gnuParse(strings, tz);
      const after = nowSpec();
      after.sec += 1; // GNU's clock has ns resolution; allow the whole millisecond
      const disagreements: string[] = [];
      strings.forEach((s, k) => {
        const g = gnu[k]!;
        const lo = ours(s, before, tz);
        const hi = ours(s, after, tz);
        compared++;
        const ok = g === "ERR" ? lo === "ERR" && hi === "ERR" : lo !== "ERR" && hi !== "ERR" && cmp(lo, g) <= 0 && cmp(g, hi) <= 0;
        if (ok) agreed++;
        else disagreements.push(`${JSON.stringify(s)}: gnu=${g} ours=${lo}..${hi}`);
      });
      expect(disagreements).toEqual([]);
    });
  }
  test("summary", () => {
    console.log(`differential: ${ALL.length} strings x ${ZONES.length} zones = ${compared} comparisons, ${agreed} agree`);
    expect(agreed).toBe(compared);
  });
});

const FORMATS = [
  "%s %Y %m %d %H %M %S %F %T %z %Z %a %A %b %B %e %j %u %w %y %D %R %C %h %k %l %I %p",
  "%:z %::z %:::z %n %t %% %N %3N %6N %c %x %X %r %P %q %U %V %W %G %g",
  "%-d %_d %05d %-m %_m %-H %_H %-j %_j %3e %-e %10A %^A %#A %^b %#B %^Z %#Z %#p %010B %_5Y %+4C %+6Y",
  "%8:z %:8z %Q %E% %-", "", "plain text",
];
const INSTANTS = [0, -22, 853661868, 1_000_000_000, 1_774_747_800, 1_791_076_500, 1_795_562_369, -1_000_000_000, 4_102_444_800, 946_684_799];

describe.skipIf(!haveGnu)("formatTime agrees with GNU date +FORMAT", () => {
  for (const tz of [...ZONES, "CET-1CEST,M3.5.0,M10.5.0/3", "<+03>-3", "XXX-12:34:56", "PST8PDT,M4.1.0,M10.5.0"]) {
    test(`TZ=${tz}`, () => {
      const mismatches: string[] = [];
      for (const sec of INSTANTS) {
        for (const f of FORMATS) {
          // "@-22.5" means -23 + 0.5 to GNU, so negative instants are given whole.
          const nsec = sec >= 0 ? 123456789 : 0;
          const g = spawnSync(GNU_DATE, ["-d", sec >= 0 ? `@${sec}.123456789` : `@${sec}`, `+${f}`], { encoding: "utf8", env: { TZ: tz, LC_ALL: "C" } });
          const mine = formatTime({ sec, nsec }, f, { zone: tz }) + "\n";
          if (g.stdout !== mine) mismatches.push(`${sec} ${JSON.stringify(f)}: gnu=${JSON.stringify(g.stdout)} ours=${JSON.stringify(mine)}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
  }
});

// readTime (what dsbackup date prints) adds phrases only where GNU refuses:
// wherever the GNU layer (compared with GNU above) accepts, the value is the same.
describe("readTime keeps GNU's value for every string the GNU grammar accepts", () => {
  for (const tz of ZONES) {
    test(`TZ=${tz}`, () => {
      const now = { sec: 1_795_562_369, nsec: 5 };
      let accepted = 0;
      for (const s of ALL) {
        let gnu: TimeSpec;
        try {
          gnu = parseTimeSpec(s, { now, zone: tz });
        } catch {
          continue;
        }
        accepted++;
        expect(readTime(s, { now, zone: tz }).spec).toEqual(gnu);
      }
      expect(accepted).toBeGreaterThan(200);
    });
  }
});
