// Broken or hostile input: settings, index, x.serial, time strings, --storage
// paths, symbolic links and special files inside the storage. Each is refused
// with one clear line and its documented exit code, and nothing is written.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { appendTransactions, createStorage } from "../fixtures/generator.ts";
import { dsbackup, listArchive, tempDir } from "../helpers.ts";
import { databasePath, type Format } from "../../src/storage/names.ts";
import { expectError, expectUnchanged, storageState, tempFiles } from "./common.ts";

const NOW = () => Math.floor(Date.now() / 1000);

function newStorage(format: Format = "chunky", label = "hostile") {
  const home = join(tempDir(label), "storage");
  createStorage(home, { format, transactions: 5, objectsPerTransaction: 2, seed: 3 });
  return { home, A: (flat: string) => join(home, "A", databasePath(format, flat)) };
}

/** Run, expect the error, and check that nothing was written. */
function refused(home: string, args: string[], code: number, ...needles: (string | RegExp)[]) {
  const before = storageState(home);
  const r = dsbackup(["--storage", home, ...args]);
  const line = expectError(r, code, ...needles);
  expectUnchanged(home, before);
  expect(tempFiles(home)).toEqual([]);
  return line;
}

describe("config/settings", () => {
  const settingsCases: [string, string | null | "dir", string][] = [
    ["missing", null, "cannot read SETTINGS: no such file or directory"],
    ["a directory", "dir", "cannot read SETTINGS: is a directory"],
    ["empty", "", "SETTINGS: no [storage] classname"],
    ["unparsable", "[storage\nclassname Full\n", "SETTINGS:1: cannot parse line"],
    ["binary", "\u0000\u00ff\u0001garbage\n", "SETTINGS:1: cannot parse line"],
    ["a setting outside any section", "classname: Full\n", "SETTINGS:1: setting outside any [section]"],
    ["wrong classname", "[storage]\nclassname: Minimal\n[structure]\nformat: flat\n", 'classname is "Minimal"; backups need a Full storage'],
    ["no format", "[storage]\nclassname: Full\n", "SETTINGS: no [structure] format"],
    ["unknown format", "[storage]\nclassname: Full\n[structure]\nformat: grassy\n", 'unknown format "grassy"'],
  ];
  test.each(settingsCases)("%s: exit 10 naming the file", (_what, content, message) => {
    const { home } = newStorage();
    const path = join(home, "config", "settings");
    unlinkSync(path);
    if (content === "dir") mkdirSync(path);
    else if (content !== null) writeFileSync(path, content);
    refused(home, ["full"], 10, message.replace("SETTINGS", path));
  });
});

describe("backups/tindex", () => {
  const good = "1     1000         00000000000000AA\n";
  const indexCases: [string, string, string][] = [
    ["a garbage line", `${good}hello world\n`, "tindex:2: expected 3 fields"],
    ["binary garbage", `${good}\u0000\u0001\u0002 x y\n`, "tindex:2: bad sequence number"],
    ["a duplicate sequence number", `${good}1     2000         00000000000000BB\n`, "tindex:2: sequence number 1 is not greater than 1 on line 1"],
    ["a decreasing sequence number", `5     1000         00000000000000AA\n# note\n3     2000         00000000000000BB\n`, "tindex:3: sequence number 3 is not greater than 5 on line 1"],
    ["a non-hex tid", "1     1000         00000000000000GG\n", "tindex:1: bad transaction id"],
    ["a lower-case tid", "1     1000         00000000000000aa\n", "tindex:1: bad transaction id"],
    ["a short tid", "1     1000         0AA\n", "tindex:1: bad transaction id"],
    ["sequence number 0", "0     1000         00000000000000AA\n", "tindex:1: bad sequence number"],
    ["a negative timestamp", "1     -5           00000000000000AA\n", "tindex:1: bad timestamp"],
    ["four fields", "1     1000         00000000000000AA extra\n", "tindex:1: expected 3 fields"],
  ];
  test.each(indexCases)("%s: refused with exit 13 and the line number, never renumbered", (_what, index, message) => {
    const { home } = newStorage();
    const path = join(home, "backups", "tindex");
    writeFileSync(path, index);
    for (const words of [["full"], ["inc", "36 hours ago"]]) refused(home, words, 13, `${path}:${message.slice("tindex:".length)}`);
    expect(readFileSync(path, "utf8")).toBe(index);
  });

  test("comments, blank lines and a missing final newline are fine; the new line is appended after", () => {
    const { home } = newStorage();
    const path = join(home, "backups", "tindex");
    writeFileSync(path, "# mine\n\n3     1000         0000000000000000   # hand-written\n7     1001         0000000000000000");
    const r = dsbackup(["--storage", home, "full"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("This is backup sequence number 8");
    const text = readFileSync(path, "utf8");
    expect(text.startsWith("# mine\n\n3     1000         0000000000000000   # hand-written\n7     1001         0000000000000000\n8 ")).toBe(true);
  });

  test("tindex that is a directory: error naming it", () => {
    const { home } = newStorage();
    mkdirSync(join(home, "backups", "tindex"));
    refused(home, ["full"], 1, `Cannot read ${join(home, "backups", "tindex")}: is a directory`);
  });
});

describe("x.serial", () => {
  test.each([
    ["empty", 0],
    ["3 bytes", 3],
    ["9 bytes", 9],
  ])("%s long: refused naming it, for full and inc", (_what, length) => {
    const { home, A } = newStorage();
    expect(dsbackup(["--storage", home, "-q", "full"]).status).toBe(0);
    writeFileSync(A("x.serial"), Buffer.alloc(length, 0x41));
    for (const words of [["full"], ["inc", String(NOW() + 5)]]) {
      refused(home, words, 1, `${A("x.serial")}: corrupt record at byte 0: expected 8 bytes, found ${length}`);
    }
  });
});

describe("time strings for inc", () => {
  const huge = "3 days ago ".repeat(500);
  test.each([
    ["empty", "", "inc: invalid date ''"],
    ["blank", "   ", "inc: invalid date '   '"],
    ["nonsense", "banana o'clock", "inc: invalid date 'banana o'clock'"],
    ["almost right", "36 hourz ago", "inc: invalid date '36 hourz ago'"],
    ["huge", huge, `inc: invalid date '${huge.slice(0, 80)}...' (${huge.length} characters)`],
    ["binary with a terminal escape", "\u0001\u001b[2J\u007f", "inc: invalid date '\\x01\\x1b[2J\\x7f'"],
    ["a carriage return and a cursor movement", "now\r\u001b[1A", "inc: invalid date 'now\\x0d\\x1b[1A'"],
    ["non-ASCII", "gestern 12:00 Uhr \u00e4", "inc: invalid date 'gestern 12:00 Uhr \u00e4'"],
    ["a huge number", "9".repeat(40), "inc: invalid date"],
  ])("%s: exit 2, one sanitised line", (_what, when, message) => {
    const { home } = newStorage();
    const line = refused(home, ["inc", when], 2, message);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(line.length).toBeLessThan(300);
  });
});

describe("--storage", () => {
  test("a file, /, a missing path, an empty string", () => {
    const dir = tempDir("storage-arg");
    const file = join(dir, "plain-file");
    writeFileSync(file, "x");
    expectError(dsbackup(["--storage", file, "full"]), 10, `Not a storage: ${file} is not a directory`);
    expectError(dsbackup(["--storage", "/", "full"]), 10, "Not a storage: / has no A/ directory");
    expectError(dsbackup(["--storage", join(dir, "nope"), "full"]), 10, `Not a storage: ${join(dir, "nope")}: no such directory`);
    expectError(dsbackup(["--storage", "", "full"]), 2, "--storage needs a non-empty DIR");
  });

  test("a path with spaces, quotes and unicode works for full and inc", () => {
    const home = join(tempDir("odd path"), "My Storage 'ü' ☃ -x", "home");
    createStorage(home, { format: "lawn", transactions: 3, seed: 2 });
    expect(dsbackup(["--storage", home, "prefix", "nightly", "full"]).status).toBe(0);
    appendTransactions(home, { count: 2, seed: 3 });
    const r = dsbackup(["--storage", home, "prefix", "nightly", "inc", String(NOW() + 5)]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(join(home, "backups", "nightly-1-to-2.tgz"));
    expect(listArchive(join(home, "backups", "nightly-1-to-2.tgz"))).toContain(`A/${databasePath("lawn", "x.serial")}`);
  });
});

// Decision (src/backup/entries.ts): DirectoryStorage never makes symbolic
// links or special files under A/ or config/; one there is refused with an
// error naming it, never followed and never stored.
describe("symbolic links and special files inside the storage", () => {
  test("a symlink in A/ to a file outside: full backup refused naming it, target never read", () => {
    const { home, A } = newStorage("bushy", "link");
    const outside = join(tempDir("outside"), "secret");
    writeFileSync(outside, "must never be archived");
    const link = join(dirname(A("x.serial")), "zz-link");
    symlinkSync(outside, link);
    refused(home, ["full"], 1, `${link} is a symbolic link`, "refusing to back it up");
  });

  test("a symlink in A/ to a directory and one in config/: refused", () => {
    const { home } = newStorage("flat", "link-dir");
    const link = join(home, "A", "zz-dir");
    symlinkSync(tempDir("outside-dir"), link);
    refused(home, ["full"], 1, `${link} is a symbolic link`);
    unlinkSync(link);
    const conf = join(home, "config", "snapshot.conf");
    symlinkSync("/etc/passwd", conf);
    refused(home, ["full"], 1, `${conf} is a symbolic link`);
  });

  test("a revision replaced by a symlink, named by the chain: inc refused, not followed", () => {
    const { home, A } = newStorage("chunky", "link-inc");
    expect(dsbackup(["--storage", home, "-q", "full"]).status).toBe(0);
    appendTransactions(home, { count: 1, objectsPerTransaction: 1, seed: 4, newObjects: 0 });
    // The pointer of oid 1 is in the incremental when oid 1 was written; use x.oid, always included.
    const victim = A("x.oid");
    const copy = join(tempDir("outside-inc"), "x.oid");
    renameSync(victim, copy);
    symlinkSync(copy, victim);
    refused(home, ["inc", String(NOW() + 5)], 1, `Cannot read ${victim}: is a symbolic link, not a regular file`);
  });

  test("a FIFO in A/ is refused without blocking, for full and inc", () => {
    const { home, A } = newStorage("lawn", "fifo");
    const fifo = join(home, "A", "zz-fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    refused(home, ["full"], 1, `${fifo} is not a regular file`);
    rmSync(fifo);
    expect(dsbackup(["--storage", home, "-q", "full"]).status).toBe(0);
    appendTransactions(home, { count: 1, seed: 5 });
    unlinkSync(A("x.oid"));
    expect(spawnSync("mkfifo", [A("x.oid")]).status).toBe(0);
    refused(home, ["inc", String(NOW() + 5)], 1, A("x.oid"), "not a regular file");
  });

  test("a symlinked top-level folder is a bare folder entry, its content not followed", () => {
    const { home } = newStorage("flat", "link-top");
    rmSync(join(home, "journal"), { recursive: true });
    const elsewhere = tempDir("elsewhere");
    writeFileSync(join(elsewhere, "stray"), "not the storage's");
    symlinkSync(elsewhere, join(home, "journal"));
    const r = dsbackup(["--storage", home, "full"]);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain("left out of the backup");
    const names = listArchive(join(home, "backups", "backup-1.tgz"));
    expect(names).toContain("journal/");
    expect(names.filter((n) => n.startsWith("journal/"))).toEqual(["journal/"]);
  });
});
