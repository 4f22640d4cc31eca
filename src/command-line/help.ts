// --help text, made from the command-line description (spec.ts) and the exit
// status table (errors.ts): the main help lists the commands and the exit
// statuses (once); a command's help lists its usage, options and examples.
import { exitCodeDescriptions } from "../errors.ts";
import { version } from "../version.ts";
import { COMMANDS, GLOBAL_OPTIONS, commandSpec, type CommandSpec, type OptionSpec } from "./spec.ts";

const PROGRAM = "dsbackup";
const WIDTH = 100;

/** Wrap text to lines of at most `width` characters, each prefixed by `indent`. */
export function wrap(text: string, indent: string, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** `-q, --quiet` or `--to TARGET`. */
export function optionLabel(o: OptionSpec): string {
  const long = `--${o.name}${o.value === undefined ? "" : o.value.startsWith("[") ? `[=${o.value.slice(1, -1)}]` : ` ${o.value}`}`;
  if (!o.short) return long;
  const short = `-${o.short}${o.value === undefined ? "" : o.value.startsWith("[") ? o.value : ` ${o.value}`}`;
  return o.shortOnly ? short : `${short}, ${long}`;
}

export function optionText(o: OptionSpec): string {
  return o.default === undefined ? o.description : `${o.description} (default ${o.default})`;
}

function table(rows: [string, string][], indent = "  "): string[] {
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)));
  const out: string[] = [];
  for (const [label, text] of rows) {
    const pad = " ".repeat(indent.length + width + 2);
    const body = wrap(text, pad);
    if (label.length > width) {
      out.push(indent + label);
      out.push(...body);
    } else {
      out.push(indent + label.padEnd(width + 2) + (body[0] ?? "").trimStart());
      out.push(...body.slice(1));
    }
  }
  return out;
}

export function exitStatusLines(): string[] {
  return exitCodeDescriptions.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`);
}

export function mainHelp(): string {
  const visible = COMMANDS.filter((c) => !c.hidden);
  const lines = [
    `${PROGRAM} ${version}: full and incremental backups of a DirectoryStorage (ZODB), restore, verify, list, prune`,
    "",
    "Usage:",
    `  ${PROGRAM} ${commandSpec("backup").usage[0]}`,
    `  ${PROGRAM} COMMAND [OPTIONS]`,
    "",
    "Commands:",
    ...table(visible.map((c) => [c.name === "backup" ? "full, inc WHEN" : c.name, c.summary])),
    "",
    "Options:",
    ...table(GLOBAL_OPTIONS.map((o) => [optionLabel(o), optionText(o)])),
    "",
    ...wrap(`Options may stand before or after the command word. ${PROGRAM} COMMAND --help (or ${PROGRAM} full --help) shows a command's options.`, ""),
    "",
    "Exit status:",
    ...exitStatusLines(),
  ];
  return `${lines.join("\n")}\n`;
}

export function commandHelp(command: CommandSpec): string {
  const [first, ...more] = command.usage;
  const lines = [
    `Usage: ${PROGRAM} ${first}`,
    ...more.map((u) => `       ${PROGRAM} ${u}`),
    "",
    ...command.description.flatMap((p) => [...wrap(p, ""), ""]),
    "Options:",
    ...table(command.options.map((o) => [optionLabel(o), optionText(o)])),
  ];
  if (command.examples.length > 0) {
    lines.push("", "Examples:");
    for (const e of command.examples) lines.push(`  ${e.command}${e.comment ? `    # ${e.comment}` : ""}`);
  }
  lines.push("", `Exit statuses: see ${PROGRAM} --help.`);
  return `${lines.join("\n")}\n`;
}
