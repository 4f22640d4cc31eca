// The man page says what the parser accepts: every option of the
// description is in it, every option it names is accepted, it renders with
// groff and man-db without a warning, and roff's special characters in the
// description print as themselves. `dsbackup man` prints the same page.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { documentedCommands, manPage, prose, roffEscape } from "../../src/command-line/man.ts";
import { parseCommandLine } from "../../src/command-line/parse.ts";
import { COMMANDS, GLOBAL_OPTIONS, type OptionSpec } from "../../src/command-line/spec.ts";
import { runDate } from "../../src/commands/date.ts";
import { exitCodeDescriptions } from "../../src/errors.ts";
import { packageVersion } from "../../scripts/build.ts";
import { dsbackup, hasCommand, tempDir } from "../helpers.ts";

const page = manPage({ version: packageVersion() });
const pageFile = join(tempDir("man"), "dsbackup.1");
writeFileSync(pageFile, page);

/** The page as man-db shows it at 80 columns, and what it said on stderr. */
function render(file: string, width = 80): { text: string; stderr: string; status: number } {
  const r = spawnSync("man", ["--warnings", "-l", file], { encoding: "utf8", env: { ...process.env, MANWIDTH: String(width), MAN_KEEP_FORMATTING: "", PAGER: "cat", MANPAGER: "cat", LANG: "C.UTF-8" } });
  // man-db keeps backspace overstrikes when not on a terminal only if asked; strip any.
  return { text: r.stdout.replace(/.\x08/g, ""), stderr: r.stderr, status: r.status ?? -1 };
}

const spelled = (o: OptionSpec) => (o.shortOnly ? [`-${o.short}`] : [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);

describe("the man page and the description agree", () => {
  test("has the sections of a Unix manual page, in order", () => {
    const sections = [...page.matchAll(/^\.SH (.+)$/gm)].map((m) => m[1]!.replace(/"/g, ""));
    expect(sections).toEqual(["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "TIME STRINGS", "FILES", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]);
  });

  test("every option of every documented command, in bold, spelt as the parser reads it", () => {
    for (const o of [...GLOBAL_OPTIONS, ...documentedCommands().flatMap((c) => c.options)]) {
      for (const token of spelled(o)) expect(page).toContain(`\\fB${roffEscape(token)}\\fR`);
    }
  });

  test("every command, every exit status, every file and environment variable", () => {
    for (const c of documentedCommands()) if (c.name !== "backup") expect(page).toContain(`.SS "${roffEscape(c.name)}"`);
    for (const [code, text] of exitCodeDescriptions) expect(page).toContain(`.TP\n\\fB${code}\\fR\n${prose(text)}`);
    expect(page).not.toContain("__complete");
  });

  test("every option the rendered page names is one the command line accepts", async () => {
    if (!hasCommand("man", "--version")) return console.warn("SKIP: man-db not installed (apt-get install man-db groff)");
    const { text } = render(pageFile);
    const named = new Set([...text.matchAll(/(?<![\w-])--[a-z0-9][a-z0-9-]*/g)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(20);
    const documented = new Set([...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)].flatMap(spelled));
    for (const option of named) {
      if (documented.has(option)) continue;
      // A synonym named in a description (date's --universal): the command must take it.
      const out: string[] = [];
      const status = await runDate([option], { stdout: (s) => out.push(s), now: new Date(0), env: { TZ: "UTC" } }).catch((e: Error) => e.message);
      expect({ option, status }).toEqual({ option, status: 0 });
    }
    // The words of each command's synopsis parse (the placeholders filled in).
    expect(parseCommandLine(["restore", "--backups", "b", "--to", "t", "--seq", "3", "--skip", "x.tgz", "--verify"]).command?.name).toBe("restore");
  });
});

describe("rendering", () => {
  test("groff -man -ww -z: no warnings", () => {
    if (!hasCommand("groff", "--version")) return console.warn("SKIP: groff not installed (apt-get install groff)");
    const r = spawnSync("groff", ["-man", "-ww", "-z", pageFile], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("man -l at 80 and 60 columns: no warnings, and the page reads as intended", () => {
    if (!hasCommand("man", "--version")) return console.warn("SKIP: man-db not installed (apt-get install man-db groff)");
    for (const width of [80, 60]) {
      const r = render(pageFile, width);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      // Long examples are broken with a shell continuation, so at 80 columns nothing runs over.
      if (width === 80) expect(Math.max(...r.text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(width);
    }
    const { text } = render(pageFile);
    expect(text).toMatch(/^NAME\n {7}dsbackup - full and incremental backups/m);
    expect(text).toContain("dsbackup restore (--backups LOCATION | --storage DIR) --to TARGET");
    // Hyphens are minus signs (\-), quotes stay straight: the examples can be copied into a shell.
    expect(text).toContain("dsbackup --storage /var/zope/storage --output - full | ssh host \\\n               'cat > x.tgz'");
    expect(text).not.toMatch(/[\u2010\u2018\u2019]/);
  });

  test("dsbackup man prints the same page", () => {
    const r = dsbackup(["man"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(page);
  });
});

describe("roff escaping", () => {
  test("backslashes, hyphens, quotes and non-ASCII print as themselves", () => {
    expect(roffEscape("C:\\dir --x 'q' `b` \u00e9")).toBe("C:\\edir \\-\\-x \\(aqq\\(aq \\(gab\\(ga \\[u00E9]");
  });

  test("a description line starting with a dot or a quote is text, not a request", () => {
    const file = join(tempDir("man-esc"), "x.1");
    // Feed the escaper's output for hostile text through groff and read it back.
    const hostile = [".so /etc/passwd", "'br", "\\fBbold?", "-rf"];
    const body = hostile.map((h) => (/^[.']/.test(roffEscape(h)) ? `\\&${roffEscape(h)}` : roffEscape(h))).join("\n.br\n");
    writeFileSync(file, `${manPage({ version: "1" }).split("\n").slice(0, 4).join("\n")}\n.SH TEST\n${body}\n`);
    if (!hasCommand("groff", "--version")) return console.warn("SKIP: groff not installed");
    const r = spawnSync("groff", ["-man", "-ww", "-Tascii", file], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    const text = r.stdout.replace(/.\x08/g, "");
    for (const h of hostile) expect(text).toContain(h);
  });
});
