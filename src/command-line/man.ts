// The manual page dsbackup(1), made from the command-line description
// (spec.ts) and the exit status table (errors.ts), so it says what the
// parser accepts. Plain man(7) macros plus .SY/.EX (groff's an-ext, also
// known to mandoc). Every text is escaped: a backslash, a hyphen, a quote or
// a leading dot in the description must print as itself, not as roff.
import { exitCodeDescriptions } from "../errors.ts";
import { optionText } from "./help.ts";
import { ABOUT, BACKUP_WORDS, COMMANDS, ENVIRONMENT, FILES, GLOBAL_OPTIONS, SEE_ALSO, TIME_STRINGS, type CommandSpec, type OptionSpec } from "./spec.ts";

const PROGRAM = "dsbackup";

export interface ManPageOptions {
  version: string;
  /** The date in the page footer (YYYY-MM-DD); empty leaves it out, so equal inputs give equal pages. */
  date?: string;
}

/** Escape text for roff: it prints as written, in any position on a line. */
export function roffEscape(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/'/g, "\\(aq")
    .replace(/`/g, "\\(ga")
    .replace(/[^\x20-\x7e]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`);
}

/** A text line that roff must not read as a request (leading `.` or `'`). */
function textLine(escaped: string): string {
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

const bold = (s: string) => `\\fB${roffEscape(s)}\\fR`;
const italic = (s: string) => `\\fI${roffEscape(s)}\\fR`;

/** A quoted macro argument (a section title). */
const macroArg = (s: string) => `"${roffEscape(s).replace(/"/g, "\\(dq")}"`;

const OPTION = /(?<![\w-])--?[A-Za-z0-9][\w-]*/g;
const WORDS = new Set<string>([...COMMANDS.map((c) => c.name), ...BACKUP_WORDS]);

/** Prose: option names in bold, the rest as written. */
export function prose(text: string): string {
  let out = "";
  let last = 0;
  for (const m of text.matchAll(OPTION)) {
    out += roffEscape(text.slice(last, m.index)) + bold(m[0]);
    last = m.index + m[0].length;
  }
  return textLine(out + roffEscape(text.slice(last)));
}

/** A synopsis or option label: options and command words in bold, placeholders (DIR, WHEN) in italics. */
function syntax(text: string): string {
  const token = /(?<![\w-])(--?[A-Za-z0-9][\w-]*)|(?<![\w-])([A-Z][A-Z0-9_]*(?:\.\.\.)?)(?![\w-])|(?<![\w-])([a-z][\w-]*)(?![\w-])/g;
  let out = "";
  let last = 0;
  for (const m of text.matchAll(token)) {
    const [whole, option, placeholder, word] = m;
    const marked = option ? bold(option) : placeholder ? italic(placeholder) : WORDS.has(word!) ? bold(word!) : roffEscape(word!);
    out += roffEscape(text.slice(last, m.index)) + marked;
    last = m.index + whole.length;
  }
  return textLine(out + roffEscape(text.slice(last)));
}

/** The label of an option in a .TP list: `\fB\-q\fR, \fB\-\-quiet\fR`. */
function optionLabel(o: OptionSpec): string {
  const value = o.value === undefined ? "" : o.value.startsWith("[") ? `[${italic(o.value.slice(1, -1))}]` : ` ${italic(o.value)}`;
  const longValue = o.value === undefined ? "" : o.value.startsWith("[") ? `[=${italic(o.value.slice(1, -1))}]` : ` ${italic(o.value)}`;
  const long = `${bold(`--${o.name}`)}${longValue}`;
  if (!o.short) return long;
  const short = `${bold(`-${o.short}`)}${value}`;
  return o.shortOnly ? short : `${short}, ${long}`;
}

/** Commands the page documents (the completion helper is not for people). */
export function documentedCommands(): CommandSpec[] {
  return COMMANDS.filter((c) => !c.internal);
}

/** How the page names a command: the backup command is its words. */
function commandTitle(c: CommandSpec): string {
  return c.name === "backup" ? "full, inc WHEN, prefix NAME" : c.name;
}

/** A command's options but --help, which every command takes (listed once, above them). */
function ownOptions(c: CommandSpec): OptionSpec[] {
  return c.options.filter((o) => o.name !== "help");
}

function optionsTitle(c: CommandSpec): string {
  return c.name === "backup" ? "backup (full, inc)" : c.name;
}

function synopsis(usage: string): string[] {
  return [".SY dsbackup", syntax(usage), ".YS"];
}

/** Longest example line; longer ones are continued with a backslash (80 columns less the indents). */
const EXAMPLE_WIDTH = 66;

/** Break a shell command at spaces outside quotes into lines ending in ` \`, so it still runs when copied. */
export function continueLines(command: string, width = EXAMPLE_WIDTH): string[] {
  const words = command.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [command];
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && line.length + 1 + word.length + 2 > width) {
      lines.push(`${line} \\`);
      line = `    ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines;
}

function example(e: { command: string; comment?: string }): string[] {
  const code = (s: string) => textLine(roffEscape(s));
  const inline = e.comment ? `${e.command}    # ${e.comment}` : e.command;
  if (inline.length <= EXAMPLE_WIDTH) return [code(inline)];
  return [...(e.comment ? [code(`# ${e.comment}`)] : []), ...continueLines(e.command).map(code)];
}

export function manPage(opts: ManPageOptions): string {
  const commands = documentedCommands();
  const lines: string[] = [
    `.\\" The manual page of dsbackup, generated from src/command-line/spec.ts by \`dsbackup man\`; do not edit.`,
    `.TH DSBACKUP 1 ${macroArg(opts.date ?? "")} ${macroArg(`${PROGRAM} ${opts.version}`)} "User Commands"`,
    ".\\\" No hyphenation and a ragged right margin: option names and paths stay whole (HY: groff's .YS and .EE restore it).",
    ".nr HY 0",
    ".nh",
    ".ad l",
    ".SH NAME",
    `${PROGRAM} \\- full and incremental backups of a DirectoryStorage (ZODB): restore, verify, list, prune`,
    ".SH SYNOPSIS",
    ...commands.flatMap((c) => c.usage.flatMap(synopsis)),
    ".SH DESCRIPTION",
    ...ABOUT.flatMap((p) => [".PP", prose(p)]),
    ".SH COMMANDS",
  ];
  for (const c of commands) {
    lines.push(`.SS ${macroArg(commandTitle(c))}`, ...c.usage.flatMap(synopsis), ".PP", prose(`${capitalise(c.summary)}.`));
    for (const p of c.description) lines.push(".PP", prose(p));
    if (ownOptions(c).length > 0) lines.push(".PP", prose(`Options: see ${optionsTitle(c)} under OPTIONS.`));
  }
  lines.push(".SH OPTIONS", ".PP", prose("Every command takes -h (--help); without a command:"));
  for (const o of GLOBAL_OPTIONS) lines.push(".TP", optionLabel(o), prose(optionText(o)));
  for (const c of commands.filter((c) => ownOptions(c).length > 0)) {
    lines.push(`.SS ${macroArg(optionsTitle(c))}`);
    for (const o of ownOptions(c)) lines.push(".TP", optionLabel(o), prose(optionText(o)));
  }
  lines.push(".SH TIME STRINGS", ...TIME_STRINGS.flatMap((p) => [".PP", prose(p)]));
  lines.push(".SH FILES", ".PP", prose("HOME is the storage home directory given with --storage."));
  for (const f of FILES) lines.push(".TP", italic(f.path), prose(f.description));
  lines.push(".SH ENVIRONMENT");
  for (const e of ENVIRONMENT) lines.push(".TP", bold(e.name), prose(e.description));
  lines.push(".SH \"EXIT STATUS\"");
  for (const [code, text] of exitCodeDescriptions) lines.push(".TP", bold(String(code)), prose(text));
  lines.push(".SH EXAMPLES");
  for (const c of commands.filter((c) => c.examples.length > 0)) {
    lines.push(".PP", prose(`${capitalise(c.summary)}:`), ".PP", ".RS 4", ".EX", ...c.examples.flatMap(example), ".EE", ".RE");
  }
  lines.push(".SH \"SEE ALSO\"");
  lines.push(SEE_ALSO.map((ref) => {
    const [, name, section] = /^(.+)\((\w+)\)$/.exec(ref)!;
    return `${bold(name!)}(${section})`;
  }).join(",\n"));
  lines.push(".PP", prose("dsbackup --help and dsbackup COMMAND --help print the same description in short."));
  return `${lines.join("\n")}\n`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
