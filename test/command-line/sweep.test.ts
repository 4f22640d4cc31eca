// The whole command line, end to end on the compiled binary: a table-driven
// sweep over every command and option of the description (repeated,
// misplaced, missing or bad value, extra word), each ending in exit 2 and one
// line on stderr, and the reproductions of issue 11 that once did nothing and
// exited 0.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS, type CommandSpec, type OptionSpec } from "../../src/command-line/spec.ts";
import { createStorage } from "../fixtures/generator.ts";
import { dsbackup, tempDir, type RunResult } from "../helpers.ts";

function sample(o: OptionSpec): string {
  if (o.kind?.type === "int") return String(o.kind.min);
  if (o.kind?.type === "choice") return o.kind.choices[0]!;
  return "x";
}
const flag = (o: OptionSpec) => (o.shortOnly ? `-${o.short}` : `--${o.name}`);
/** The words that name a command on the line. */
const word = (c: CommandSpec) => (c.name === "backup" ? ["full"] : [c.name]);

function expectUsage(r: RunResult, mentions?: string) {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: "" });
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^dsbackup: /);
  expect(lines[0]).not.toMatch(/internal error|[a-z][A-Z][a-z]+`/); // no cac camelCase, no crash
  if (mentions) expect(lines[0]).toContain(mentions);
}

const swept = COMMANDS.filter((c) => !c.hidden && c.name !== "date"); // date is GNU date's own parser (own tests)

describe("every option of every command", () => {
  for (const command of swept) {
    for (const option of command.options.filter((o) => o.name !== "help")) {
      const name = flag(option);
      if (option.value !== undefined && !option.repeatable) {
        test(`${command.name} ${name}: repeated`, () => {
          expectUsage(dsbackup([...word(command), name, sample(option), name, sample(option)]), name);
        });
      }
      if (option.value !== undefined) {
        test(`${command.name} ${name}: missing value`, () => {
          expectUsage(dsbackup([...word(command), name]), name);
        });
      }
      if (option.kind?.type === "int" || option.kind?.type === "choice") {
        test(`${command.name} ${name}: bad value`, () => {
          expectUsage(dsbackup([...word(command), name, "banana"]), name);
        });
      }
      if (option.value === undefined && !option.shortOnly) {
        test(`${command.name} ${name}: a flag given a value`, () => {
          expectUsage(dsbackup([...word(command), `${name}=yes`]), name);
        });
      }
    }
    // An option of another command, before and after the command word.
    const foreign = COMMANDS.flatMap((c) => c.options).find((o) => !o.shortOnly && !command.options.some((p) => p.name === o.name));
    if (foreign) {
      test(`${command.name}: --${foreign.name} of another command, misplaced before and after`, () => {
        const value = foreign.value === undefined ? [] : [sample(foreign)];
        expectUsage(dsbackup([`--${foreign.name}`, ...value, ...word(command)]), `--${foreign.name}`);
        expectUsage(dsbackup([...word(command), `--${foreign.name}`, ...value]), `--${foreign.name}`);
      });
    }
    test(`${command.name}: unknown option, with the nearest suggested`, () => {
      expectUsage(dsbackup([...word(command), "--storagex", "x"]), "--storagex");
    });
    if (command.positionals.kind === "none" || (command.positionals.kind === "list" && command.positionals.max === 0)) {
      test(`${command.name}: an extra word`, () => {
        const storage = command.options.some((o) => o.name === "storage") ? ["--storage", "x"] : [];
        expectUsage(dsbackup([command.name, ...storage, "foo"]), '"foo"');
      });
    }
  }
  test("--help after any command word, and help COMMAND, show that command's help (exit 0, no exit table)", () => {
    for (const args of [["inc", "--help"], ["prefix", "--help"], ["full", "-h"], ["restore", "--help"], ["help", "restore"], ["list", "--bogus", "--help"]]) {
      const r = dsbackup(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: dsbackup /);
      expect(r.stdout).not.toContain("Exit status:\n");
    }
    const main = dsbackup(["--help"]);
    expect(main.stdout.match(/Exit status:/g)).toHaveLength(1);
  });
});

describe("issue 11 reproductions: never exit 0 having done nothing", () => {
  const home = join(tempDir("cli"), "storage");
  createStorage(home, { format: "flat", transactions: 3, seed: 4 });

  test("--storage S snapshot -- COMMAND runs COMMAND under snapshot mode", () => {
    const marker = join(tempDir("cli-marker"), "M");
    const r = dsbackup(["--storage", home, "snapshot", "-q", "--", "sh", "-c", `touch ${marker}; exit 5`]);
    expect(r.status).toBe(5);
    expect(existsSync(marker)).toBe(true);
  });

  test.each([
    [["--or-full", "snapshot", "--", "true"], "--or-full"],
    [["--jobs", "2", "snapshot", "--", "true"], "--jobs"],
    [["--storage", "S", "date"], "--storage"],
    [["--level", "3", "date", "-d", "yesterday"], "--level"],
    [["--version", "list"], "--version"],
    [["--storage", "A", "--storage", "B", "full"], "--storage"],
    [["restore", "--to", "a", "--to", "b"], "--to"],
    [["list", "--prefix", "a", "--prefix", "b"], "--prefix"],
    [["list", "--backups", "X", "--backups", "X"], "--backups"],
    [["restore", "mystorage-2-to-4.tgz", "--to", "r8"], "mystorage-2-to-4.tgz"],
    [["list", "foo"], "foo"],
    [["prune", "foo"], "foo"],
    [["--storage", "S", "full", "prefix", "x"], "prefix x"],
    [["restor", "--to", "x"], 'did you mean "restore"'],
    [["verfy"], 'did you mean "verify"'],
    [["lst"], 'did you mean "list"'],
    [["--storage", "S", "inc", "36", "hours", "ago"], 'inc "36 hours ago"'],
    [["restore", "--dryRun"], "--dry-run"],
    [["snapshot", "--storage", "S", "--storage", "T", "--", "true"], "--storage"],
    [["snapshot", "-t", "1", "-t", "2", "--storage", "S", "--", "true"], "-t"],
    [[], "no command"],
    [["--storage", "S"], "no command"],
  ])("%j is a usage error", (args, mentions) => {
    expectUsage(dsbackup(args as string[]), mentions as string);
  });

  test("--skip stays repeatable", () => {
    const r = dsbackup(["restore", "--backups", join(home, "nowhere"), "--to", "x", "--skip", "a-1.tgz", "--skip", "a-2.tgz"]);
    expect(r.status).not.toBe(2);
  });

  test("options may stand before or after the command word", () => {
    expect(dsbackup(["--storage", home, "full", "-q"]).status).toBe(0);
    const before = dsbackup(["--storage", home, "--json", "list"]);
    const after = dsbackup(["list", "--json", "--storage", home]);
    expect(before.status).toBe(0);
    expect(after.stdout).toBe(before.stdout);
  });
});
