// Rolling crashed storages forward (direct mode): the result must be exactly
// what a clean shutdown leaves, and a journal we do not understand must
// change nothing at all.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage, readTree } from "../fixtures/generator.ts";
import { buildCrashedStorage } from "../fixtures/crash.ts";
import { tempDir } from "../helpers.ts";
import { formats, databasePath, transactionName } from "../../src/storage/names.ts";
import { rollForward, planRollForward } from "../../src/snapshot/direct.ts";
import { StorageError } from "../../src/errors.ts";

function scenario(format: (typeof formats)[number], plan = { inB: 2, done: 3, temp: true }) {
  const dir = tempDir(`direct-${format}`);
  const base = join(dir, "base");
  createStorage(base, { format, transactions: 6, objectsPerTransaction: 3, seed: 11 });
  const expected = join(dir, "expected");
  const crashed = join(dir, "crashed");
  const result = buildCrashedStorage(base, format, expected, crashed, plan);
  return { base, expected, crashed, ...result };
}

describe.each(formats)("format %s", (format) => {
  test("B/ and committed journal transactions land in A/ exactly as a clean shutdown leaves them", () => {
    const { expected, crashed, rolled, incomplete } = scenario(format);
    expect(rolled).toHaveLength(5);
    expect(incomplete).toBeDefined();
    // The fixture really is a crash: A/ lacks the rolled transactions.
    expect(existsSync(join(crashed, "A", databasePath(format, transactionName(rolled.at(-1)!))))).toBe(false);
    expect(readdirSync(join(crashed, "journal"))).toHaveLength(4);

    const report = rollForward(crashed, format);
    expect(report).toEqual({ transactions: 3, files: expect.any(Number), discarded: 1 });
    expect(readTree(join(crashed, "A"))).toEqual(readTree(join(expected, "A")));
    expect(readdirSync(join(crashed, "B"))).toEqual([]);
    expect(readdirSync(join(crashed, "journal"))).toEqual([]);
    expect(existsSync(join(crashed, "misc", "snapshot"))).toBe(true);
    // Rolling forward a rolled-forward storage changes nothing.
    expect(rollForward(crashed, format)).toEqual({ transactions: 0, files: 0, discarded: 0 });
    expect(readTree(join(crashed, "A"))).toEqual(readTree(join(expected, "A")));
  });
});

test("a later journal transaction overwrites files of earlier ones and of B/ (pointers, x.serial)", () => {
  // Many transactions on few objects: the same o<OID>.c is rewritten often.
  const dir = tempDir("direct-overwrite");
  const base = join(dir, "base");
  createStorage(base, { format: "chunky", transactions: 2, objectsPerTransaction: 2, seed: 5 });
  const { expected, crashed } = {
    expected: join(dir, "expected"),
    crashed: join(dir, "crashed"),
  };
  buildCrashedStorage(base, "chunky", expected, crashed, { inB: 3, done: 6, temp: false, seed: 900 });
  rollForward(crashed, "chunky");
  expect(readTree(join(crashed, "A"))).toEqual(readTree(join(expected, "A")));
});

describe("hostile journals change nothing", () => {
  const cases: [string, (home: string) => void, RegExp][] = [
    ["a strange name in journal/", (h) => writeFileSync(join(h, "journal", "notes.txt"), "x"), /unexpected file journal\/notes\.txt/],
    ["a strange folder in journal/", (h) => mkdirSync(join(h, "journal", "working_0123_done")), /unexpected folder journal\/working_0123_done/],
    ["lower-case tid", (h) => mkdirSync(join(h, "journal", "working_03c5a1b2c3d4e5f6_done")), /unexpected folder/],
    ["journal/replica.tar", (h) => writeFileSync(join(h, "journal", "replica.tar"), ""), /replica\.tar/],
    ["a strange file in a committed transaction", (h) => {
      const d = join(h, "journal", "working_FFFFFFFFFFFFFFF0_done");
      mkdirSync(d);
      writeFileSync(join(d, "x.serial.bak"), "");
    }, /journal\/working_FFFFFFFFFFFFFFF0_done\/x\.serial\.bak/],
    ["a folder in a committed transaction", (h) => mkdirSync(join(h, "journal", "working_FFFFFFFFFFFFFFF0_done", "sub"), { recursive: true }), /unexpected folder/],
    ["a symlink in B/", (h) => symlinkSync("/etc/passwd", join(h, "B", "x.oid")), /B\/x\.oid is not a regular file/],
  ];
  test.each(cases)("%s", (_, spoil, message) => {
    const { crashed } = scenario("bushy", { inB: 1, done: 2, temp: true });
    spoil(crashed);
    const before = readTree(crashed);
    const dirsBefore = readdirSync(join(crashed, "journal")).sort();
    let error: unknown;
    try {
      rollForward(crashed, "bushy");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("nothing was changed");
    expect(readTree(crashed)).toEqual(before);
    expect(readdirSync(join(crashed, "journal")).sort()).toEqual(dirsBefore);
    expect(existsSync(join(crashed, "misc", "snapshot"))).toBe(false);
  });
});

test("planRollForward lists B/ files, done folders in name order, and temp folders", () => {
  const { crashed, rolled, incomplete } = scenario("lawn", { inB: 1, done: 2, temp: true });
  const plan = planRollForward(crashed, "lawn");
  expect(plan.done.map((t) => t.tid)).toEqual(rolled.slice(1));
  expect(plan.temp).toEqual([`working_${incomplete}_temp`]);
  expect(plan.fromB).toContain("x/serial");
  expect(plan.done[0]!.files).toContain("x.serial");
});
