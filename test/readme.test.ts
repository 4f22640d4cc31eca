// README.md against the code it documents: the exit status table is
// src/errors.ts's exitCodeDescriptions row for row, and "The command line"
// names every command of src/command-line/spec.ts, so neither can drift.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { BACKUP_WORDS, COMMANDS } from "../src/command-line/spec.ts";
import { exitCodeDescriptions } from "../src/errors.ts";

const readme = readFileSync(resolve(import.meta.dir, "../README.md"), "utf8");

/** The text from a heading line to the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no heading "${heading}"`);
  const level = heading.indexOf(" ");
  const rest = readme.slice(start + heading.length + 2);
  const next = rest.search(new RegExp(`^#{1,${level}} `, "m"));
  return next < 0 ? rest : rest.slice(0, next);
}

/** The rows of the first Markdown table in `text`, header and separator left out, cells trimmed. */
function tableRows(text: string): string[][] {
  const lines = text.split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, line.endsWith("|") ? -1 : undefined).split(" | ").map((c) => c.trim()));
  }
  return rows;
}

describe("README.md", () => {
  test("the exit status table is src/errors.ts exitCodeDescriptions: every code and text, in order", () => {
    const rows = tableRows(section("## Exit status")).map(([code, meaning]) => [Number(code), meaning!.replaceAll("`", "")]);
    expect(rows).toEqual(exitCodeDescriptions);
  });

  test("the table reader sees a changed or missing row", () => {
    const rows = tableRows("| code | meaning |\n| --- | --- |\n| 0 | ok |\n| 2 | usage |\n\ntext after");
    expect(rows).toEqual([
      ["0", "ok"],
      ["2", "usage"],
    ]);
    expect(rows).not.toEqual([["0", "ok"]]);
  });

  test('"The command line" names every command of the description in code (the backup words for backup)', () => {
    // Code spans only: a word of the prose ("exit status", "a list of") does not count.
    const code = section("### The command line")
      .split("`")
      .filter((_, i) => i % 2 === 1)
      .join("\n");
    const missing: string[] = [];
    for (const c of COMMANDS.filter((c) => !c.hidden)) {
      const words = c.name === "backup" ? BACKUP_WORDS : [c.name];
      for (const w of words) if (!new RegExp(`(^|[^\\w-])${w}($|[^\\w-])`, "m").test(code)) missing.push(w);
    }
    expect(missing).toEqual([]);
    expect(COMMANDS.filter((c) => !c.hidden).length).toBeGreaterThan(5);
  });
});
