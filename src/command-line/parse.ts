// The strict command-line parser: the whole argv is read against the
// description in spec.ts before anything runs. Every word is understood or
// refused: unknown words and options (with the nearest valid one suggested),
// repeated single-valued options, missing or bad values, and options of
// another command are usage errors.
import { UsageError } from "../errors.ts";
import { BACKUP_WORDS, COMMANDS, GLOBAL_OPTIONS, findCommand, optionKey, type CommandSpec, type OptionSpec } from "./spec.ts";

export interface ParsedCommandLine {
  /** Undefined for `dsbackup --help` / `--version` without a command. */
  command?: CommandSpec;
  /** Option values keyed by optionKey(name): string, number, true, string[] (repeatable) or a count. */
  options: Record<string, unknown>;
  /** Positional words (the backup language's words, verify's ARCHIVEs). */
  words: string[];
  /** For commands that parse their own arguments: what to hand them. */
  passthrough: string[];
  help: boolean;
  version: boolean;
}

const DASH = (o: OptionSpec) => `--${o.name}`;

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = above;
    }
  }
  return row[b.length]!;
}

/** The nearest candidate, if it is near enough to be what was meant. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  const limit = Math.max(1, Math.min(2, Math.floor(word.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

const quote = (s: string) => JSON.stringify(s);

/** Every option a command accepts, the global --help included. */
function optionsOf(command: CommandSpec): OptionSpec[] {
  return command.options.some((o) => o.name === "help") ? command.options : [...command.options, GLOBAL_OPTIONS[0]!];
}

function lookup(options: OptionSpec[], token: string): OptionSpec | undefined {
  if (token.startsWith("--")) return options.find((o) => o.name === token.slice(2) && !o.shortOnly);
  return options.find((o) => o.short === token.slice(1));
}

/** Options of any command (to skip their values while looking for the command word). */
const ALL_OPTIONS: OptionSpec[] = [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)];

function takesSeparateValue(option: OptionSpec | undefined): boolean {
  // `-I[FMT]` of date takes its value only attached.
  return option?.value !== undefined && !option.value.startsWith("[");
}

/** The message for an option the command does not take, with what was probably meant. */
function unknownOption(command: CommandSpec | undefined, token: string): UsageError {
  const where = command ? ` for ${commandLabel(command)}` : "";
  const name = token.replace(/=.*$/, "");
  if (name.startsWith("--")) {
    const bare = name.slice(2);
    const kebab = bare.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, "-");
    const own = command ? optionsOf(command).map((o) => o.name) : GLOBAL_OPTIONS.map((o) => o.name);
    const guess = own.includes(kebab) ? kebab : nearest(kebab, own);
    if (guess) return new UsageError(`unknown option ${name}${where}; did you mean --${guess}?`);
    const elsewhere = COMMANDS.filter((c) => c !== command && c.options.some((o) => o.name === kebab));
    if (elsewhere.length > 0) {
      const of = elsewhere.length <= 2 ? ` (an option of ${elsewhere.map(commandLabel).join(" and ")})` : "";
      return new UsageError(`${commandLabel(command)} does not take --${kebab}${of}`);
    }
  }
  return new UsageError(`unknown option ${name}${where} (see dsbackup ${command && command.name !== "backup" ? `${command.name} ` : ""}--help)`);
}

function commandLabel(command: CommandSpec | undefined): string {
  if (!command) return "dsbackup";
  return command.name === "backup" ? "a backup (full, inc)" : command.name;
}

function unknownCommand(word: string): UsageError {
  if (word === "backup") return new UsageError(`unknown command "backup": backups are taken with the words full and inc (dsbackup --storage DIR full)`);
  const candidates = [...COMMANDS.filter((c) => c.name !== "backup").map((c) => c.name), ...BACKUP_WORDS];
  const guess = nearest(word, candidates);
  return new UsageError(`unknown command ${quote(word)}${guess ? `; did you mean ${quote(guess)}?` : " (see dsbackup --help)"}`);
}

/** Check and convert one option value. */
function checkValue(option: OptionSpec, value: string): string | number {
  const label = `${DASH(option)} ${option.value}`;
  if (value === "") throw new UsageError(`${DASH(option)} needs a non-empty ${option.value}`);
  const kind = option.kind;
  if (kind?.type === "int") {
    if (kind.words?.includes(value)) return value;
    const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
    if (!(n >= kind.min && n <= kind.max)) {
      const range = kind.max >= 999_999_999 ? `a whole number of at least ${kind.min}` : `a whole number from ${kind.min} to ${kind.max}`;
      const words = kind.words?.length ? ` or ${kind.words.map(quote).join(" or ")}` : "";
      throw new UsageError(`${label}: ${option.value} must be ${range}${words}, not ${quote(value)}`);
    }
    return n;
  }
  if (kind?.type === "choice" && !kind.choices.includes(value)) {
    throw new UsageError(`${label}: must be ${kind.choices.map(quote).join(" or ")}, not ${quote(value)}`);
  }
  return value;
}

interface Scan {
  /** Index of the command word, or -1. */
  commandIndex: number;
  /** `--` seen before the command word. */
  dashDash: boolean;
}

/** Find the command word: the first word that is neither an option nor an option's value. */
function scanForCommand(argv: string[]): Scan {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") return { commandIndex: i + 1 < argv.length ? i + 1 : -1, dashDash: true };
    if (token.startsWith("-") && token !== "-") {
      if (!token.includes("=") && takesSeparateValue(lookup(ALL_OPTIONS, token))) i++;
      continue;
    }
    return { commandIndex: i, dashDash: false };
  }
  return { commandIndex: -1, dashDash: false };
}

class OptionCollector {
  readonly values: Record<string, unknown> = {};
  private readonly seen = new Set<string>();
  constructor(private readonly command: CommandSpec) {}

  /** Read the option at argv[i]; returns the index of its last token. */
  read(argv: string[], i: number): number {
    const token = argv[i]!;
    const eq = token.startsWith("--") ? token.indexOf("=") : -1;
    const name = eq < 0 ? token : token.slice(0, eq);
    const options = optionsOf(this.command);
    let option = lookup(options, name);
    let inline = eq < 0 ? undefined : token.slice(eq + 1);
    if (!option && !name.startsWith("--") && name.length > 2) {
      // A cluster of flags (-qv) or a short option with its value attached (-t600).
      const first = lookup(options, name.slice(0, 2));
      if (first?.value !== undefined) {
        option = first;
        inline = name.slice(2);
      } else if (first) {
        for (const c of name.slice(1)) this.set(lookup(options, `-${c}`) ?? fail(unknownOption(this.command, `-${c}`)), true, `-${c}`);
        return i;
      }
    }
    if (!option) {
      if (name === "--version" || name === "-V") throw new UsageError(`${name} stands alone: dsbackup --version (no command)`);
      throw unknownOption(this.command, token);
    }
    if (option.value === undefined) {
      if (inline !== undefined) throw new UsageError(`${DASH(option)} takes no value (got ${quote(inline)})`);
      this.set(option, true, name);
      return i;
    }
    let value = inline;
    if (value === undefined && !option.value.startsWith("[")) {
      value = argv[i + 1];
      const next = value === undefined ? undefined : lookup(options, value.replace(/=.*$/, ""));
      if (value === undefined || (value.startsWith("--") && next) || value === "--") {
        throw new UsageError(`${DASH(option)} needs a value (${option.value})${value === undefined ? "" : `, not the option ${value}`}`);
      }
      i++;
    }
    this.set(option, value === undefined ? true : checkValue(option, value), name);
    return i;
  }

  private set(option: OptionSpec, value: unknown, written: string): void {
    const key = optionKey(option.name);
    if (option.repeatable) {
      if (option.value === undefined) this.values[key] = ((this.values[key] as number | undefined) ?? 0) + 1;
      else ((this.values[key] ??= []) as unknown[]).push(value);
      return;
    }
    if (this.seen.has(key)) {
      const shown = written.startsWith("--") ? written : `${written} (${DASH(option)})`;
      throw new UsageError(`${shown} is given more than once${option.value ? `: give one ${option.value}` : ""}`);
    }
    this.seen.add(key);
    this.values[key] = value;
  }
}

function fail(err: Error): never {
  throw err;
}

/** Is --help / -h among argv's options (before `--`, not as an option's value)? */
function asksHelp(argv: string[], from: number, command: CommandSpec): boolean {
  const options = optionsOf(command);
  for (let i = from; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === "--") return false;
    if (t === "--help" || t === "-h") return true;
    if (command.positionals.kind === "own" && !t.startsWith("-")) return false; // COMMAND's own words
    if (command.positionals.kind === "backup-words" && (t === "inc" || t === "prefix")) {
      if (argv[i + 1] === "--help" || argv[i + 1] === "-h") return true; // nobody's WHEN or NAME
      i++;
    }
    else if (t.startsWith("-") && !t.includes("=") && takesSeparateValue(lookup(options, t))) i++;
  }
  return false;
}

/** Check the backup language's structure (times are parsed later, by the backup plan). */
function checkBackupWords(words: string[]): void {
  let pendingPrefix: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "prefix") {
      if (i + 1 >= words.length) throw new UsageError("prefix needs a NAME (prefix NAME full|inc WHEN)");
      if (pendingPrefix !== undefined) throw new UsageError(`prefix ${pendingPrefix} is not followed by full or inc`);
      pendingPrefix = words[++i]!;
    } else if (word === "full") {
      pendingPrefix = undefined;
    } else if (word === "inc") {
      if (i + 1 >= words.length) throw new UsageError('inc needs a time (WHEN), e.g. inc "36 hours ago" or inc 1700000000');
      const when = words[++i]!;
      pendingPrefix = undefined;
      // `inc 36 hours ago` unquoted: the time's other words follow it.
      const rest: string[] = [];
      for (let k = i + 1; k < words.length && !(BACKUP_WORDS as readonly string[]).includes(words[k]!); k++) rest.push(words[k]!);
      if (rest.length > 0) {
        throw new UsageError(`unexpected word ${quote(rest[0]!)} after inc ${when}: quote the time, as in inc ${quote([when, ...rest].join(" "))}`);
      }
    } else if (findCommand(word) && word !== "backup") {
      throw new UsageError(`${quote(word)} is a command of its own: run it separately (dsbackup ${word} ...), not among backup words`);
    } else {
      const guess = nearest(word, BACKUP_WORDS);
      throw new UsageError(
        `unknown backup word ${quote(word)}${guess ? `; did you mean ${quote(guess)}?` : ""} (expected prefix NAME, full or inc WHEN)`,
      );
    }
  }
  if (pendingPrefix !== undefined) throw new UsageError(`prefix ${pendingPrefix} is not followed by full or inc`);
}

function checkPositionals(command: CommandSpec, words: string[]): void {
  const p = command.positionals;
  if (p.kind === "backup-words") return checkBackupWords(words);
  if (p.kind === "own") return;
  const max = p.kind === "none" ? 0 : p.max;
  const min = p.kind === "none" ? 0 : p.min;
  if (words.length > max) {
    const extra = words[max]!;
    const other = findCommand(extra);
    if (other && other.name !== "backup") throw new UsageError(`unexpected word ${quote(extra)}: give one command per run (${command.name} and ${extra} are both commands)`);
    if ((BACKUP_WORDS as readonly string[]).includes(extra)) throw new UsageError(`unexpected word ${quote(extra)}: backup words cannot follow ${command.name}; take backups in a run of their own`);
    const hint = p.kind === "list" && p.hint ? p.hint : max === 0 ? `${command.name} takes no arguments` : `${command.name} takes at most ${max} ${p.kind === "list" ? p.name : ""}`;
    throw new UsageError(`unexpected word ${quote(extra)}: ${hint}`);
  }
  if (words.length < min && p.kind === "list") throw new UsageError(`${command.name} needs ${p.name}`);
}

export function parseCommandLine(argv: string[]): ParsedCommandLine {
  const out: ParsedCommandLine = { options: {}, words: [], passthrough: [], help: false, version: false };
  const { commandIndex, dashDash } = scanForCommand(argv);
  const pre = commandIndex < 0 ? argv.filter((t) => t !== "--") : argv.slice(0, dashDash ? commandIndex - 1 : commandIndex);

  if (commandIndex < 0) {
    // No command word: --help (with anything), or --version alone.
    if (pre.includes("--help") || pre.includes("-h")) return { ...out, help: true };
    if (pre.includes("--version") || pre.includes("-V")) {
      const other = pre.find((t) => t !== "--version" && t !== "-V");
      if (other !== undefined || pre.length > 1) throw new UsageError(`--version stands alone: dsbackup --version${other ? ` (not with ${other})` : ""}`);
      return { ...out, version: true };
    }
    const firstOption = pre.find((t) => t.startsWith("-"));
    if (firstOption && !lookup(ALL_OPTIONS, firstOption.replace(/=.*$/, ""))) throw unknownOption(undefined, firstOption);
    throw new UsageError("no command given: dsbackup --storage DIR full|inc WHEN ..., or dsbackup COMMAND ... (see dsbackup --help)");
  }

  const word = argv[commandIndex]!;
  const isBackupWord = (BACKUP_WORDS as readonly string[]).includes(word);
  const command = isBackupWord ? findCommand("backup")! : word !== "backup" ? findCommand(word) : undefined;
  if (!command) throw unknownCommand(word);
  out.command = command;

  if (command.name === "help") {
    const rest = argv.slice(commandIndex + 1).filter((t) => t !== "--help" && t !== "-h");
    if (pre.length > 0) throw unknownOption(command, pre[0]!);
    if (rest.length > 1) throw new UsageError(`unexpected word ${quote(rest[1]!)}: help takes one COMMAND`);
    out.help = true;
    if (rest.length === 1) {
      const target = (BACKUP_WORDS as readonly string[]).includes(rest[0]!) ? findCommand("backup") : rest[0] === "backup" ? undefined : findCommand(rest[0]!);
      if (!target || target.name === "help") throw unknownCommand(rest[0]!);
      out.command = target;
    } else out.command = undefined;
    return out;
  }

  // Help wins over every other mistake on the line: `restore --help` with anything.
  if (asksHelp(argv, 0, command) && (command.positionals.kind !== "own" || asksHelp(argv, commandIndex + 1, command) || pre.includes("--help") || pre.includes("-h"))) {
    out.help = true;
    return out;
  }

  if (command.positionals.kind === "own") {
    // Options before the command word must be its own; they are handed on first.
    const collector = new OptionCollector(command);
    for (let i = 0; i < pre.length; i++) i = collector.read(pre, i);
    out.passthrough = [...pre, ...argv.slice(commandIndex + 1)];
    return out;
  }

  const collector = new OptionCollector(command);
  let onlyWords = false;
  for (let i = 0; i < argv.length; i++) {
    if (i === commandIndex && !isBackupWord) continue;
    const token = argv[i]!;
    if (!onlyWords && token === "--") {
      onlyWords = true;
      continue;
    }
    if (!onlyWords && token.startsWith("-") && token !== "-") {
      i = collector.read(argv, i);
      continue;
    }
    out.words.push(token);
    if (command.positionals.kind === "backup-words" && (token === "inc" || token === "prefix") && i + 1 < argv.length) {
      const value = argv[i + 1]!;
      if (value.startsWith("--") && lookup(optionsOf(command), value.replace(/=.*$/, ""))) {
        throw new UsageError(`${token} needs ${token === "inc" ? "a time (WHEN)" : "a NAME"} before the option ${value}`);
      }
      out.words.push(value);
      i++;
    }
  }
  checkPositionals(command, out.words);
  out.options = collector.values;
  return out;
}
