// The description is what the parser accepts: every documented option of
// every command is parsed into its key, nothing undocumented is accepted,
// and the commands with parsers of their own accept exactly what is listed.
import { describe, expect, test } from "bun:test";
import { COMMANDS, optionKey, type OptionSpec } from "../../src/command-line/spec.ts";
import { editDistance, nearest, parseCommandLine } from "../../src/command-line/parse.ts";
import { parseSnapshotArgs } from "../../src/commands/snapshot.ts";
import { runDate } from "../../src/commands/date.ts";
import { UsageError } from "../../src/errors.ts";

const sample = (o: OptionSpec) => (o.kind?.type === "int" ? String(o.kind.min) : o.kind?.type === "choice" ? o.kind.choices[0]! : "v");

describe("the description and the parser agree", () => {
  for (const command of COMMANDS.filter((c) => c.positionals.kind !== "own" && c.name !== "help")) {
    const lead = command.name === "backup" ? ["full"] : [command.name];
    for (const o of command.options.filter((o) => o.name !== "help")) {
      test(`${command.name} --${o.name} is parsed into options.${optionKey(o.name)}`, () => {
        const args = o.value === undefined ? [`--${o.name}`] : [`--${o.name}`, sample(o)];
        for (const line of [[...lead, ...args], [...args, ...lead], [...lead, `--${o.name}${o.value === undefined ? "" : `=${sample(o)}`}`]]) {
          const parsed = parseCommandLine(line);
          expect(parsed.command?.name).toBe(command.name);
          const expected = o.value === undefined ? (o.repeatable ? 1 : true) : o.kind?.type === "int" ? Number(sample(o)) : sample(o);
          expect(parsed.options[optionKey(o.name)]).toEqual(o.repeatable && o.value !== undefined ? [expected] : expected);
        }
        if (o.short) expect(parseCommandLine([...lead, `-${o.short}`, ...(o.value ? [sample(o)] : [])]).options[optionKey(o.name)]).toBeDefined();
      });
    }
    test(`${command.name}: nothing undocumented is accepted`, () => {
      const documented = new Set(command.options.map((o) => o.name));
      const others = COMMANDS.flatMap((c) => c.options.map((o) => o.name)).filter((n) => !documented.has(n));
      for (const name of [...new Set(others), "bogus", "dryRun"]) {
        expect(() => parseCommandLine([...lead, `--${name}`, "v"])).toThrow(UsageError);
      }
    });
  }

  test("snapshot's own parser accepts each option the description lists for it", () => {
    const snapshot = COMMANDS.find((c) => c.name === "snapshot")!;
    for (const o of snapshot.options) {
      const token = o.shortOnly ? `-${o.short}` : `--${o.name}`;
      const args = parseSnapshotArgs([token, ...(o.value ? ["5"] : []), "true"]);
      expect(args.rest).toEqual(["true"]);
    }
    expect(() => parseSnapshotArgs(["-x", "true"])).toThrow(UsageError);
  });

  test("date's own parser accepts each option the description lists for it", async () => {
    const date = COMMANDS.find((c) => c.name === "date")!;
    for (const o of date.options) {
      const out: string[] = [];
      const token = o.value === undefined ? [`--${o.name}`] : o.value.startsWith("[") ? [`--${o.name}`] : [`--${o.name}`, o.name === "date" ? "@0" : "date"];
      expect(await runDate(token, { stdout: (s) => out.push(s), now: new Date(0), env: { TZ: "UTC" } })).toBe(0);
      expect(out.join("")).not.toBe("");
    }
  });

  test("suggestions: nearest word within a small edit distance", () => {
    expect(editDistance("restor", "restore")).toBe(1);
    expect(nearest("verfy", ["verify", "list"])).toBe("verify");
    expect(nearest("banana", ["verify", "list"])).toBeUndefined();
  });
});
