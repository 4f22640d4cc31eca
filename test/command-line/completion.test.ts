// The completion scripts, run in the real shells: the bash script sourced in
// bash with COMP_WORDS/COMP_CWORD set as readline would and the completion
// function called; fish's own `complete -C`; zsh loading the script under
// compinit. Values from the backups folder come from a real one made with
// the binary.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { completionScript, optionTokens } from "../../src/command-line/completion.ts";
import { COMMANDS, GLOBAL_OPTIONS } from "../../src/command-line/spec.ts";
import { appendTransactions, createStorage } from "../fixtures/generator.ts";
import { BINARY, dsbackup, hasCommand, tempDir } from "../helpers.ts";

const dir = tempDir("completion");
const home = join(dir, "storage");
const bashScript = join(dir, "dsbackup.bash");

beforeAll(() => {
  createStorage(home, { format: "lawn", transactions: 4 });
  for (const words of [["prefix", "site", "full"], ["prefix", "catalog", "full"], ["prefix", "site", "inc", "now"]]) {
    if (words.includes("inc")) appendTransactions(home, { count: 2, seed: 7 });
    const r = dsbackup(["--storage", home, "-q", ...words]);
    if (r.status !== 0) throw new Error(`backup ${words.join(" ")}: ${r.stderr}`);
  }
  const r = dsbackup(["completion", "bash"]);
  expect(r.status).toBe(0);
  writeFileSync(bashScript, r.stdout);
});

/** Complete `words` (the last one is the word at the cursor) in bash; returns COMPREPLY. */
function bashComplete(...words: string[]): string[] {
  return bashCompleteWith("", words);
}

const BASH_COMPLETION = "/usr/share/bash-completion/bash_completion";

/** The same, after sourcing `before` (bash-completion's library). */
function bashCompleteWith(before: string, words: string[]): string[] {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");
  const script = `${before}
source ${bashScript} || exit 9
COMP_WORDS=(${quoted}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMP_LINE="\${COMP_WORDS[*]}"; COMP_POINT=\${#COMP_LINE}
_dsbackup
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["--norc", "--noprofile", "-c", script], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir, TZ: "UTC" } });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.split("\n").filter(Boolean);
}

const hasBash = hasCommand("bash");

describe("bash", () => {
  test("dsbackup re<TAB> completes to restore", () => {
    if (!hasBash) return console.warn("SKIP: bash not installed");
    // rebuild-index (issue 11) shares the two letters; one more letter makes it restore alone.
    expect(bashComplete(BINARY, "re").sort()).toEqual(["rebuild-index", "restore"]);
    expect(bashComplete(BINARY, "res")).toEqual(["restore"]);
  });

  test("dsbackup restore --s<TAB> offers --seq --skip --storage", () => {
    if (!hasBash) return console.warn("SKIP: bash not installed");
    expect(bashComplete(BINARY, "restore", "--s").sort()).toEqual(["--seq", "--skip", "--storage"]);
  });

  test("commands and backup words; per-command options; no option of another command", () => {
    if (!hasBash) return console.warn("SKIP: bash not installed");
    expect(bashComplete(BINARY, "").sort()).toEqual(["completion", "copy", "date", "full", "help", "inc", "list", "man", "prefix", "prune", "rebuild-index", "restore", "snapshot", "status", "verify"]);
    expect(bashComplete(BINARY, "prune", "--")).toContain("--keep-full");
    expect(bashComplete(BINARY, "list", "--")).not.toContain("--keep-full");
    expect(bashComplete(BINARY, "--storage", home, "full", "")).toEqual(["prefix", "full", "inc"]);
    expect(bashComplete(BINARY, "--storage", home, "inc", "")).toEqual([]);
    expect(bashComplete(BINARY, "full", "--level", "")).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(bashComplete(BINARY, "completion", "")).toEqual(["bash", "zsh", "fish"]);
    expect(bashComplete(BINARY, "completion", "bash", "")).toEqual([]);
    expect(bashComplete(BINARY, "date", "--rfc-3339", "=", "")).toEqual(["date", "seconds", "ns"]);
  });

  test("--prefix, prefix NAME, --seq, --skip and ARCHIVE come from the backups folder on the line", () => {
    if (!hasBash) return console.warn("SKIP: bash not installed");
    expect(bashComplete(BINARY, "restore", "--storage", home, "--prefix", "")).toEqual(["catalog", "site"]);
    expect(bashComplete(BINARY, "--backups", join(home, "backups"), "list", "--prefix", "s")).toEqual(["site"]);
    expect(bashComplete(BINARY, "--storage", home, "prefix", "")).toEqual(["catalog", "site"]);
    // Restore points newest first; --prefix on the line narrows them.
    expect(bashComplete(BINARY, "restore", "--storage", home, "--seq", "")).toEqual(["3", "2", "1"]);
    expect(bashComplete(BINARY, "restore", "--storage", home, "--prefix", "catalog", "--seq", "")).toEqual(["2"]);
    expect(bashComplete(BINARY, "restore", "--storage", "=", home, "--skip", "")).toEqual(["site-1.tgz", "catalog-2.tgz", "site-2-to-3.tgz"]);
    expect(bashComplete(BINARY, "verify", "--backups", join(home, "backups"), "--prefix", "site", "")).toEqual(["site-1.tgz", "site-2-to-3.tgz"]);
    // No folder on the line, or a wrong one: nothing offered, nothing printed.
    expect(bashComplete(BINARY, "restore", "--seq", "")).toEqual([]);
    expect(bashComplete(BINARY, "restore", "--storage", join(dir, "nowhere"), "--seq", "")).toEqual([]);
  });

  test("paths complete as files and folders; snapshot's COMMAND as a program", () => {
    if (!hasBash) return console.warn("SKIP: bash not installed");
    mkdirSync(join(dir, "pick", "folder"), { recursive: true });
    writeFileSync(join(dir, "pick", "file.conf"), "");
    expect(bashComplete(BINARY, "restore", "--to", `${join(dir, "pick")}/`)).toEqual([join(dir, "pick", "folder")]);
    expect(bashComplete(BINARY, "snapshot", "--snapshot-conf", `${join(dir, "pick")}/`).sort()).toEqual([join(dir, "pick", "file.conf"), join(dir, "pick", "folder")]);
    expect(bashComplete(BINARY, "snapshot", "--storage", home, "bas")).toContain("bash");
  });

  test("with bash-completion loaded, snapshot's COMMAND line completes as that command's own", () => {
    if (!hasBash) return console.warn("SKIP: bash not installed");
    if (!existsSync(BASH_COMPLETION)) return console.warn("SKIP: bash-completion not installed (apt-get install bash-completion)");
    const lib = `source ${BASH_COMPLETION}; complete -F _dsbackup ${BINARY}`;
    expect(bashCompleteWith(lib, [BINARY, "snapshot", "--storage", home, "--", BINARY, "res"])).toEqual(["restore"]);
  });
});

describe("every option of the description is in every script", () => {
  for (const shell of ["bash", "zsh", "fish"] as const) {
    test(shell, () => {
      const script = completionScript(shell);
      for (const c of COMMANDS.filter((c) => !c.internal)) {
        for (const o of c.options) {
          for (const token of optionTokens(o)) {
            // fish names options without their dashes (-l NAME, -s X).
            const expected = shell === "fish" ? (token.startsWith("--") ? `-l ${token.slice(2)}` : `-s ${token.slice(1)}`) : token;
            expect({ command: c.name, has: script.includes(expected) }).toEqual({ command: c.name, has: true });
          }
        }
      }
      for (const o of GLOBAL_OPTIONS) expect(script).toContain(shell === "fish" ? `-l ${o.name}` : `--${o.name}`);
    });
  }
});

describe("zsh", () => {
  test("the script loads under compinit and registers _dsbackup", () => {
    if (!hasCommand("zsh")) return console.warn("SKIP: zsh not installed (apt-get install zsh)");
    const r = spawnSync("zsh", ["-f", "-c", `autoload -U compinit; compinit -u -D; source <(${BINARY} completion zsh); print -r -- $_comps[dsbackup]`], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("_dsbackup");
  });
});

describe("fish", () => {
  const hasFish = hasCommand("fish");
  /** fish's own completion of `line`: "VALUE\tDESCRIPTION" lines. */
  function fishComplete(line: string): string[] {
    const r = spawnSync("fish", ["--no-config", "-c", `dsbackup completion fish | source; complete -C ${JSON.stringify(line)}`], {
      encoding: "utf8",
      env: { PATH: `${dirname(BINARY)}:${process.env.PATH}`, HOME: dir, TZ: "UTC" },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    return r.stdout.split("\n").filter(Boolean);
  }

  test("dsbackup re<TAB> and dsbackup restore --s<TAB>", () => {
    if (!hasFish) return console.warn("SKIP: fish not installed (apt-get install fish)");
    expect(fishComplete("dsbackup re")).toContain("restore\trestore a storage from its backups into an empty or new folder");
    expect(fishComplete("dsbackup restore --s").map((l) => l.split("\t")[0])).toEqual(["--seq", "--skip", "--storage"]);
  });

  test("values from the backups folder, with descriptions", () => {
    if (!hasFish) return console.warn("SKIP: fish not installed (apt-get install fish)");
    expect(fishComplete(`dsbackup restore --storage ${home} --prefix `)).toEqual(["catalog\t1 archive", "site\t2 archives"]);
    expect(fishComplete(`dsbackup restore --storage ${home} --seq `).map((l) => l.split("\t")[0])).toEqual(["1", "2", "3"]);
    expect(fishComplete(`dsbackup --storage ${home} prefix `).map((l) => l.split("\t")[0])).toEqual(["catalog", "site"]);
    expect(fishComplete("dsbackup completion ").map((l) => l.split("\t")[0])).toEqual(["bash", "fish", "zsh"]);
  });
});

describe("dsbackup __complete", () => {
  test("prints VALUE<TAB>DESCRIPTION lines, and refuses a bad kind or a missing folder", () => {
    const r = dsbackup(["__complete", "seq", "--storage", home, "--prefix", "site"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^3\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n1\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$/);
    expect(dsbackup(["__complete", "archive", "--backups", join(home, "backups")]).stdout).toBe("site-1.tgz\tfull\ncatalog-2.tgz\tfull\nsite-2-to-3.tgz\t2-to-3\n");
    expect(dsbackup(["__complete", "colour", "--storage", home]).status).toBe(2);
    expect(dsbackup(["__complete", "seq"]).status).toBe(2);
    expect(dsbackup(["__complete", "seq", "--storage", join(dir, "nowhere")]).status).toBe(10);
    // Not for people: not in the help, the man page or the completions.
    expect(dsbackup(["--help"]).stdout).not.toContain("__complete");
    expect(completionScript("bash")).not.toMatch(/_dsbackup_commands='[^']*__complete/);
  });
});
